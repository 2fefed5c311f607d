/*
 * signing.c: Ed25519-signed ticket codes (SPEC section 11), with libsodium.
 *
 * Signing lives in the extension, not in the shim: a ticket gets its code in
 * the statement that creates it, whoever creates it (the engine, a DBA in
 * psql, the upgrade from 1.0), and the secret keys never leave the tables
 * only the extension owner can read (evently.event_keys, SPEC section 8).
 *
 * Code format 1, what an offline scanner verifies with the event's public
 * key alone (README, "Ticket codes"; tests/checkin/verify-ticket.c):
 *
 *   payload   = 0x01 | ticket id (16) | event id (16) | kind ('S' seat, 'T' tier unit)
 *               | item id (16: the seat or the tier) | version (uint16, big-endian)
 *   signature = crypto_sign_detached(payload, the event's secret key)   (64 bytes)
 *   code      = base64url, no padding, of payload || signature          (155 characters)
 */
#include "evently.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "storage/proc.h"
#include "utils/builtins.h"

#define CODE_FORMAT		1
#define PAYLOAD_LEN		(1 + UUID_LEN + UUID_LEN + 1 + UUID_LEN + 2)
#define SIGNED_LEN		(PAYLOAD_LEN + crypto_sign_BYTES)

/*
 * A key of one event, kept for the (sub)transaction that read it: a booking
 * signs all its tickets with one lookup.  Not longer: a key made in a
 * transaction that rolls back is gone, and must not sign anything after.
 */
typedef struct CachedKey
{
	bool		valid;
	LocalTransactionId xact;
	SubTransactionId subxact;
	pg_uuid_t	event_id;
	unsigned char key[crypto_sign_SECRETKEYBYTES];
} CachedKey;

static void
require_sodium(void)
{
	if (sodium_init() < 0)
		elog(ERROR, "libsodium could not be initialised");
}

/* The key of the event, from the table into the cache; false when there is none. */
static bool
read_event_key(SqlStmt *q, pg_uuid_t *event_id, CachedKey *cache, size_t len)
{
	Datum		arg = UUIDPGetDatum(event_id);
	bool		isnull;
	bytea	   *key;

	if (stmt_run(q, &arg, NULL, SPI_OK_SELECT) != 1)
		return false;
	key = DatumGetByteaPP(result_datum(0, 1, &isnull));
	if (isnull || VARSIZE_ANY_EXHDR(key) != len)
		return false;
	memcpy(cache->key, VARDATA_ANY(key), len);
	memcpy(&cache->event_id, event_id, UUID_LEN);
	cache->xact = MyProc->lxid;
	cache->subxact = GetCurrentSubTransactionId();
	cache->valid = true;
	return true;
}

/*
 * The event's key, public or secret, into cache (len bytes); false when the
 * event has none.  A secret key is made the first time one is needed
 * (_new_event_key, 58_tickets.sql).
 */
static bool
event_key(pg_uuid_t *event_id, bool secret, CachedKey *cache, size_t len)
{
	static SqlStmt q_public = SQL_STMT("SELECT public_key FROM evently.event_keys WHERE event_id = $1",
									   1, UUIDOID);
	static SqlStmt q_secret = SQL_STMT("SELECT secret_key FROM evently.event_keys WHERE event_id = $1",
									   1, UUIDOID);
	static SqlStmt q_make = SQL_STMT("SELECT evently._new_event_key($1)", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	bool		found;

	if (cache->valid && cache->xact == MyProc->lxid && cache->subxact == GetCurrentSubTransactionId()
		&& memcmp(&cache->event_id, event_id, UUID_LEN) == 0)
		return true;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = read_event_key(secret ? &q_secret : &q_public, event_id, cache, len);
	if (!found && secret)
	{
		stmt_run(&q_make, &arg, NULL, SPI_OK_SELECT);
		found = read_event_key(&q_secret, event_id, cache, len);
	}
	SPI_finish();
	return found;
}

/*
 * evently._ed25519_keypair(OUT public_key bytea, OUT secret_key bytea): a
 * new key pair (32 and 64 bytes) from the system's random source.
 */
PG_FUNCTION_INFO_V1(evently_ed25519_keypair);
Datum
evently_ed25519_keypair(PG_FUNCTION_ARGS)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bytea	   *pk_bytes = palloc(VARHDRSZ + sizeof(pk));
	bytea	   *sk_bytes = palloc(VARHDRSZ + sizeof(sk));

	require_sodium();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_ed25519_keypair must return a record");
	crypto_sign_keypair(pk, sk);
	SET_VARSIZE(pk_bytes, VARHDRSZ + sizeof(pk));
	memcpy(VARDATA(pk_bytes), pk, sizeof(pk));
	SET_VARSIZE(sk_bytes, VARHDRSZ + sizeof(sk));
	memcpy(VARDATA(sk_bytes), sk, sizeof(sk));
	sodium_memzero(sk, sizeof(sk));
	values[0] = PointerGetDatum(pk_bytes);
	values[1] = PointerGetDatum(sk_bytes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * evently._sign_ticket(ticket_id uuid, event_id uuid, kind text ('S' or
 * 'T'), item_id uuid, version int 1..65535) RETURNS text: the ticket's code
 * (format 1, above), signed with the event's secret key, made now if the
 * event has none yet.  A sixth argument, the event's secret key as the
 * caller read it with the tickets (event_keys.secret_key, NULL when it had
 * none yet), saves the lookup; the six-argument form is not STRICT, for
 * that NULL, and checks the others itself.
 */
PG_FUNCTION_INFO_V1(evently_sign_ticket);
Datum
evently_sign_ticket(PG_FUNCTION_ARGS)
{
	static CachedKey secret;
	unsigned char signed_code[SIGNED_LEN];
	char		code[sodium_base64_ENCODED_LEN(SIGNED_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	pg_uuid_t  *event_id;
	char	   *kind;
	int32		version;
	unsigned char *p = signed_code;
	const unsigned char *key = secret.key;

	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			elog(ERROR, "_sign_ticket: argument %d is NULL", i + 1);
	event_id = PG_GETARG_UUID_P(1);
	kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	version = PG_GETARG_INT32(4);
	require_sodium();
	if ((strcmp(kind, "S") != 0 && strcmp(kind, "T") != 0) || version < 1 || version > 65535)
		elog(ERROR, "_sign_ticket: kind %s, version %d", kind, version);
	/* the booking's statement read the key with the tickets: no lookup */
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
	{
		bytea	   *given = PG_GETARG_BYTEA_PP(5);

		if (VARSIZE_ANY_EXHDR(given) != crypto_sign_SECRETKEYBYTES)
			elog(ERROR, "_sign_ticket: a secret key of %d bytes", (int) VARSIZE_ANY_EXHDR(given));
		key = (const unsigned char *) VARDATA_ANY(given);
	}
	else if (!event_key(event_id, true, &secret, crypto_sign_SECRETKEYBYTES))
		elog(ERROR, "event %s has no signing key", uuid_text(event_id));
	*p++ = CODE_FORMAT;
	memcpy(p, PG_GETARG_UUID_P(0)->data, UUID_LEN), p += UUID_LEN;
	memcpy(p, event_id->data, UUID_LEN), p += UUID_LEN;
	*p++ = (unsigned char) kind[0];
	memcpy(p, PG_GETARG_UUID_P(3)->data, UUID_LEN), p += UUID_LEN;
	*p++ = (unsigned char) (version >> 8);
	*p++ = (unsigned char) (version & 0xff);
	crypto_sign_detached(p, NULL, signed_code, PAYLOAD_LEN, key);
	sodium_bin2base64(code, sizeof(code), signed_code, SIGNED_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	PG_RETURN_TEXT_P(cstring_to_text(code));
}

static Datum
uuid_datum(const unsigned char *bytes)
{
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

	memcpy(id->data, bytes, UUID_LEN);
	return UUIDPGetDatum(id);
}

/*
 * evently._read_ticket_code(code text, OUT ticket_id uuid, OUT event_id
 * uuid, OUT kind text, OUT item_id uuid, OUT version int, OUT signature_ok
 * boolean): what a code says, and whether the key of the event it names
 * signed it.  All NULL for a string that is not a format-1 code at all;
 * signature_ok is false for a tampered code or an event without a key.
 */
PG_FUNCTION_INFO_V1(evently_read_ticket_code);
Datum
evently_read_ticket_code(PG_FUNCTION_ARGS)
{
	static CachedKey public;
	unsigned char bytes[SIGNED_LEN + 1];
	size_t		len = 0;
	text	   *code = PG_GETARG_TEXT_PP(0);
	TupleDesc	desc;
	Datum		values[6] = {0};
	bool		nulls[6] = {true, true, true, true, true, true};
	const unsigned char *p = bytes + 1;

	require_sodium();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_read_ticket_code must return a record");
	if (sodium_base642bin(bytes, sizeof(bytes), VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code), NULL, &len,
						  NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0
		&& len == SIGNED_LEN && bytes[0] == CODE_FORMAT
		&& (bytes[1 + 2 * UUID_LEN] == 'S' || bytes[1 + 2 * UUID_LEN] == 'T'))
	{
		pg_uuid_t  *event_id = DatumGetUUIDP(uuid_datum(p + UUID_LEN));

		values[0] = uuid_datum(p);
		values[1] = UUIDPGetDatum(event_id);
		values[2] = CStringGetTextDatum(bytes[1 + 2 * UUID_LEN] == 'S' ? "S" : "T");
		values[3] = uuid_datum(p + 2 * UUID_LEN + 1);
		values[4] = Int32GetDatum((bytes[PAYLOAD_LEN - 2] << 8) | bytes[PAYLOAD_LEN - 1]);
		values[5] = BoolGetDatum(event_key(event_id, false, &public, crypto_sign_PUBLICKEYBYTES)
								 && crypto_sign_verify_detached(bytes + PAYLOAD_LEN, bytes, PAYLOAD_LEN,
																public.key) == 0);
		memset(nulls, false, sizeof(nulls));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * evently._public_key_text(public_key bytea) RETURNS text: the key as the
 * offline route gives it, base64url without padding.
 */
PG_FUNCTION_INFO_V1(evently_public_key_text);
Datum
evently_public_key_text(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	char		out[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	require_sodium();
	if (VARSIZE_ANY_EXHDR(key) != crypto_sign_PUBLICKEYBYTES)
		elog(ERROR, "an Ed25519 public key has %d bytes", crypto_sign_PUBLICKEYBYTES);
	sodium_bin2base64(out, sizeof(out), (unsigned char *) VARDATA_ANY(key), crypto_sign_PUBLICKEYBYTES,
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
