/*
 * verify-ticket: checks a signed ticket code (format 1) with the event's
 * public key alone: no database, no server, only libsodium.  This is what
 * an offline door scanner does with GET /checkin/event/:id/offline's
 * public_key (issue 13, "Signed ticket code").
 *
 *   verify-ticket PUBLIC_KEY CODE
 *
 * PUBLIC_KEY: the event's 32-byte Ed25519 key, base64url without padding.
 * CODE: base64url without padding of payload (52 bytes) || signature (64):
 *   payload = 0x01 | ticket_id (16) | event_id (16) | kind ('S' seat, 'T' tier)
 *             | item_id (16) | version (uint16, big-endian)
 *   signature = crypto_sign_detached(payload, the event's secret key)
 *
 * Prints one JSON line and exits 0 when the code is valid:
 *   {"valid":true,"ticket_id":"...","event_id":"...","kind":"seat"|"tier","item_id":"...","version":N}
 * or exits 1 with {"valid":false,"reason":"..."}, reason one of
 *   bad_public_key  the key is not 32 bytes of base64url
 *   malformed       the code is not base64url, or not 116 bytes
 *   unknown_format  byte 0 is not 1, or the kind is neither 'S' nor 'T'
 *   bad_signature   the signature does not verify under this key (a tampered
 *                   code, or a code of another event)
 * Exit 2 on a usage error.  A revocation (a transferred ticket's old version)
 * is not visible in the code: the scanner checks the offline package's list.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PAYLOAD_LEN 52
#define CODE_LEN (PAYLOAD_LEN + crypto_sign_BYTES)

static int
invalid(const char *reason)
{
	printf("{\"valid\":false,\"reason\":\"%s\"}\n", reason);
	return 1;
}

/* 16 raw bytes as the canonical lower-case uuid text */
static void
uuid_text(const unsigned char *b, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int			o = 0;

	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* base64url without padding, exactly `want` bytes, nothing after it */
static int
decode(const char *text, unsigned char *out, size_t cap, size_t want)
{
	size_t		len;
	const char *end;

	if (sodium_base642bin(out, cap, text, strlen(text), NULL, &len, &end,
						  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	return (*end == '\0' && len == want) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES + 1];
	unsigned char code[CODE_LEN + 1];
	char		ticket[37],
				event[37],
				item[37];

	if (argc != 3)
	{
		fprintf(stderr, "usage: verify-ticket PUBLIC_KEY CODE\n");
		return 2;
	}
	if (sodium_init() < 0)
	{
		fprintf(stderr, "verify-ticket: libsodium did not start\n");
		return 2;
	}
	if (decode(argv[1], pk, sizeof pk, crypto_sign_PUBLICKEYBYTES) != 0)
		return invalid("bad_public_key");
	if (decode(argv[2], code, sizeof code, CODE_LEN) != 0)
		return invalid("malformed");
	if (code[0] != 1 || (code[33] != 'S' && code[33] != 'T'))
		return invalid("unknown_format");
	if (crypto_sign_verify_detached(code + PAYLOAD_LEN, code, PAYLOAD_LEN, pk) != 0)
		return invalid("bad_signature");

	uuid_text(code + 1, ticket);
	uuid_text(code + 17, event);
	uuid_text(code + 34, item);
	printf("{\"valid\":true,\"ticket_id\":\"%s\",\"event_id\":\"%s\",\"kind\":\"%s\",\"item_id\":\"%s\",\"version\":%d}\n",
		   ticket, event, code[33] == 'S' ? "seat" : "tier", item, (code[50] << 8) | code[51]);
	return 0;
}
