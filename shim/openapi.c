/*
 * openapi.c: /openapi.json generated from the route table itself (so the two
 * cannot disagree), and /docs: Swagger UI from Debian's local copy of its
 * files (package python3-flasgger), never a CDN.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWAGGER_UI_DIR_DEFAULT "/usr/lib/python3/dist-packages/flasgger/ui3/static"

static const char *docs_page =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>evently API</title>"
	"<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head><body><div id=\"ui\"></div>"
	"<script src=\"/docs/swagger-ui-bundle.js\"></script>"
	"<script>window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#ui'});</script>"
	"</body></html>";

static json_t *
field_schema(const Field *f)
{
	switch (f->type)
	{
		case FIELD_STRING:
			return json_pack("{s:s, s:i, s:i}", "type", "string", "minLength", (int) f->min,
							 "maxLength", (int) f->max);
		case FIELD_UUID:
			return json_pack("{s:s, s:s}", "type", "string", "format", "uuid");
		case FIELD_INT:
			return json_pack("{s:s, s:f, s:f}", "type", "integer", "minimum", f->min, "maximum", f->max);
		case FIELD_NUMBER:
			return json_pack("{s:s, s:f, s:f}", "type", "number", "minimum", f->min, "maximum", f->max);
		case FIELD_BOOL:
			return json_pack("{s:s}", "type", "boolean");
		case FIELD_UUID_ARRAY:
			return json_pack("{s:s, s:{s:s, s:s}, s:i, s:i}", "type", "array", "items", "type", "string",
							 "format", "uuid", "minItems", (int) f->min, "maxItems", (int) f->max);
		case FIELD_STRING_ARRAY:
			return json_pack("{s:s, s:{s:s}, s:i}", "type", "array", "items", "type", "string",
							 "maxItems", (int) f->max);
		case FIELD_ARRAY:
			return json_pack("{s:s, s:i, s:i}", "type", "array", "minItems", (int) f->min,
							 "maxItems", (int) f->max);
		case FIELD_OBJECT:
			return json_pack("{s:s}", "type", "object");
	}
	return json_object();
}

static json_t *
body_schema(const Field *fields)
{
	json_t	   *properties = json_object();
	json_t	   *required = json_array();

	for (const Field *f = fields; f->name; f++)
	{
		json_object_set_new(properties, f->name, field_schema(f));
		if (f->required)
			json_array_append_new(required, json_string(f->name));
	}
	return json_pack("{s:s, s:o, s:o}", "type", "object", "properties", properties, "required", required);
}

/* "/events/:eventId" -> "/events/{eventId}", with its path parameters. */
static char *
openapi_path(const char *pattern, json_t *parameters)
{
	char	   *out = malloc(strlen(pattern) * 2 + 1);
	char	   *o = out;

	for (const char *p = pattern; *p;)
	{
		if (*p == ':')
		{
			const char *end = strchr(p, '/');
			size_t		len = end ? (size_t) (end - p - 1) : strlen(p + 1);
			json_t	   *name = json_stringn(p + 1, len);

			*o++ = '{';
			memcpy(o, p + 1, len);
			o += len;
			*o++ = '}';
			json_array_append_new(parameters, json_pack("{s:o, s:s, s:b, s:{s:s}}", "name", name,
														"in", "path", "required", 1,
														"schema", "type", "string"));
			p += len + 1;
		}
		else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* The media types a route's handler answers by Accept, the first by default; NULL: JSON only. */
static const char *const *
media_types(Handler handler)
{
	static const char *const csv[] = {"application/json", "text/csv", NULL};
	static const char *const qr[] = {"image/svg+xml", "image/png", NULL};

	return handler == csv_route ? csv : handler == qr_route ? qr : NULL;
}

/* One operation of the document: a route of the table (types: media_types). */
static void
openapi_add(json_t *doc, const char *method, const char *pattern, bool needs_token,
			int success_status, const char *message, const Field *body, const char *const *types)
{
	json_t	   *paths = json_object_get(doc, "paths");
	json_t	   *parameters = json_array();
	char	   *path = openapi_path(pattern, parameters);
	char		lower[16],
				status[8];
	json_t	   *item = json_object_get(paths, path);
	json_t	   *operation;

	for (size_t i = 0; i < sizeof(lower) - 1 && method[i]; i++)
		lower[i] = method[i] + ('a' - 'A'), lower[i + 1] = '\0';
	snprintf(status, sizeof(status), "%d", success_status);
	if (item == NULL)
		json_object_set_new(paths, path, item = json_object());
	operation = json_pack("{s:s, s:o, s:{s:{s:s}, s:{s:s}}}", "summary", message, "parameters", parameters,
						  "responses", status, "description", message, "default", "description",
						  "error envelope: {status, status_code, message, error, code, details}");
	if (needs_token)
		json_object_set_new(operation, "security", json_pack("[{s:[]}]", "bearer"));
	if (types)
	{
		json_t	   *content = json_object();

		for (; *types; types++)
			json_object_set_new(content, *types, json_object());
		json_object_set_new(json_object_get(json_object_get(operation, "responses"), status), "content",
							content);
	}
	if (body)
		json_object_set_new(operation, "requestBody",
							json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", "application/json",
									  "schema", body_schema(body)));
	json_object_set_new(item, lower, operation);
	free(path);
}

static json_t *
openapi_document(void)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{}, s:{s:{s:{s:s, s:s, s:s}}}}",
					 "openapi", "3.0.3",
					 "info", "title", "evently", "version", "1.0",
					 "description", "Event ticketing inside PostgreSQL: the Evently REST API.",
					 "paths",
					 "components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer",
					 "bearerFormat", "JWT");
}

/* built once at start-up, read by every thread after */
static json_t *document;

/* The API's routes (under /api/, or served by SQL) as OpenAPI operations. */
void
openapi_init(void)
{
	document = openapi_document();
	for (size_t i = 0; i < route_count; i++)
	{
		const Route *r = &routes[i];

		if (strncmp(r->pattern, "/api/", 5) == 0 || r->sql)
			openapi_add(document, r->method, r->pattern, r->auth == AUTH_USER || r->auth == AUTH_ADMIN, r->success_status,
						r->message, r->body, media_types(r->handler));
	}
}

Reply
openapi_route(const Route *route, Call *call)
{
	Reply		reply = {200, json_dumps(document, JSON_COMPACT)};

	return reply;
}

Reply
docs_route(const Route *route, Call *call)
{
	Reply		reply = {200, strdup(docs_page)};

	reply.content_type = "text/html; charset=utf-8";
	return reply;
}

/* A Swagger UI asset, read from disk; only the three files the page needs. */
Reply
docs_asset_route(const Route *route, Call *call)
{
	static const char *assets[] = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"};
	const char *name = json_string_value(json_object_get(json_object_get(call->req, "path"), "file"));
	const char *dir = getenv("SWAGGER_UI_DIR") ? getenv("SWAGGER_UI_DIR") : SWAGGER_UI_DIR_DEFAULT;

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
	{
		char		path[1024];
		FILE	   *f;
		Reply		reply = {200, NULL};
		long		size;

		if (strcmp(name, assets[i]) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, assets[i]);
		if ((f = fopen(path, "rb")) == NULL)
			break;
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		reply.body = malloc(size + 1);
		reply.body_size = fread(reply.body, 1, size, f);
		fclose(f);
		reply.content_type = strstr(name, ".css") ? "text/css" : "application/javascript";
		return reply;
	}
	return reply_error(404, "NOT_FOUND", "no such documentation file", NULL, NULL);
}
