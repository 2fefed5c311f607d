/*
 * qr.h: a text as a QR code image (libqrencode), for the shim's
 * GET /tickets/:id/qr and evently-notify's e-mail attachments.
 */
#ifndef EVENTLY_QR_H
#define EVENTLY_QR_H

#include <stdbool.h>
#include <stddef.h>

#define QR_QUIET_ZONE	4		/* modules of white around the code (ISO/IEC 18004) */
#define QR_PNG_SCALE	8		/* pixels per module in the PNG */

/* An SVG document: one <path> of the dark modules, one unit per module. */
bool		qr_svg(const char *text, char **svg, size_t *size);

/* A PNG, 8-bit grey, QR_PNG_SCALE pixels per module. */
bool		qr_png(const char *text, unsigned char **png, size_t *size);

#endif
