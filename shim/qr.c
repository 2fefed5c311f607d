/*
 * qr.c: a text as a QR code, SVG or PNG, in memory.  Error correction level
 * M (15% of the symbol may be lost: a scuffed phone screen, a printer's
 * smear) and 8-bit mode, so any text encodes as it is; the quiet zone is
 * part of the image, so it scans however it is placed.
 */
#include "qr.h"

#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static QRcode *
encode(const char *text)
{
	return text && *text ? QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) : NULL;
}

static bool
dark(const QRcode *qr, int x, int y)
{
	return qr->data[y * qr->width + x] & 1;
}

bool
qr_svg(const char *text, char **svg, size_t *size)
{
	QRcode	   *qr = encode(text);
	int			side;
	char	   *out,
			   *o;
	size_t		room;

	if (qr == NULL)
		return false;
	side = qr->width + 2 * QR_QUIET_ZONE;
	/* "M%d %dh%dv1h-%dz" is at most 26 bytes a run: at most one run per module */
	room = 512 + (size_t) qr->width * qr->width * 26;
	o = out = malloc(room);
	o += sprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 %d %d\" "
				 "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">\n"
				 "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
				 side, side, side * QR_PNG_SCALE, side * QR_PNG_SCALE, side, side);
	/* each horizontal run of dark modules as one rectangle */
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width;)
		{
			int			run = 0;

			while (x + run < qr->width && dark(qr, x + run, y))
				run++;
			if (run)
				o += sprintf(o, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE, run, run);
			x += run ? run : 1;
		}
	o += sprintf(o, "\"/>\n</svg>\n");
	*svg = out;
	*size = o - out;
	QRcode_free(qr);
	return true;
}

/* libpng writes through this into a growing buffer */
typedef struct
{
	unsigned char *data;
	size_t		size;
} Buffer;

static void
buffer_write(png_structp png, png_bytep data, png_size_t length)
{
	Buffer	   *b = png_get_io_ptr(png);

	b->data = realloc(b->data, b->size + length);
	memcpy(b->data + b->size, data, length);
	b->size += length;
}

static void
buffer_flush(png_structp png)
{
}

bool
qr_png(const char *text, unsigned char **png_out, size_t *size)
{
	QRcode	   *qr = encode(text);
	png_structp png;
	png_infop	info;
	Buffer		buffer = {NULL, 0};
	png_bytep	row = NULL;
	int			side;

	if (qr == NULL)
		return false;
	side = (qr->width + 2 * QR_QUIET_ZONE) * QR_PNG_SCALE;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (info == NULL || setjmp(png_jmpbuf(png)))
	{
		png_destroy_write_struct(&png, &info);
		free(buffer.data);
		free(row);
		QRcode_free(qr);
		return false;
	}
	row = malloc(side);
	png_set_write_fn(png, &buffer, buffer_write, buffer_flush);
	png_set_IHDR(png, info, side, side, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
				 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < side; y++)
	{
		int			my = y / QR_PNG_SCALE - QR_QUIET_ZONE;

		for (int x = 0; x < side; x++)
		{
			int			mx = x / QR_PNG_SCALE - QR_QUIET_ZONE;
			bool		inside = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width;

			row[x] = inside && dark(qr, mx, my) ? 0 : 255;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	QRcode_free(qr);
	*png_out = buffer.data;
	*size = buffer.size;
	return true;
}
