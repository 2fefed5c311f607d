/*
 * validate.c: a route's body, checked against its declared fields before any
 * SQL sees it.  Type errors and missing fields come back together, as
 * {"field": "problem"}, so a client can fix them all at once.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

static bool
is_uuid_text(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		bool		dash = (i == 8 || i == 13 || i == 18 || i == 23);
		char		c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

bool
is_uuid(const char *s)
{
	return s && is_uuid_text(s);
}

static bool
uuid_item(json_t *item)
{
	return json_is_string(item) && is_uuid_text(json_string_value(item));
}

/*
 * A string's length in characters, as its bounds are documented (jansson
 * keeps strings as UTF-8: count the bytes that start a character).
 */
static size_t
text_length(json_t *v)
{
	const unsigned char *s = (const unsigned char *) json_string_value(v);
	size_t		bytes = json_string_length(v),
				n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += (s[i] & 0xC0) != 0x80;
	return n;
}

static bool
short_string_item(json_t *item)
{
	return json_is_string(item) && text_length(item) <= 255;
}

/* An array of f->min to f->max items, each passing item_ok (when given). */
static const char *
check_array(const Field *f, json_t *v, bool (*item_ok) (json_t *), const char *not_array)
{
	size_t		i;
	json_t	   *item;

	if (!json_is_array(v))
		return not_array;
	if (json_array_size(v) < (size_t) f->min || json_array_size(v) > (size_t) f->max)
		return "has the wrong number of items";
	if (item_ok)
		json_array_foreach(v, i, item)
			if (!item_ok(item))
			return not_array;
	return NULL;
}

/* An object's size as JSON, in bytes (a free-form field's bound). */
static size_t
object_size(json_t *v)
{
	char	   *text = json_dumps(v, JSON_COMPACT);
	size_t		size = text ? strlen(text) : 0;

	free(text);
	return size;
}

/* The problem with one value, or NULL when it is fine. */
static const char *
check_value(const Field *f, json_t *v)
{
	switch (f->type)
	{
		case FIELD_STRING:
			if (!json_is_string(v))
				return "must be a string";
			if (text_length(v) < (size_t) f->min || text_length(v) > (size_t) f->max)
				return "has the wrong length";
			if (strlen(json_string_value(v)) != json_string_length(v))
				return "must not contain NUL characters";
			return NULL;
		case FIELD_UUID:
			return json_is_string(v) && is_uuid_text(json_string_value(v)) ? NULL : "must be a uuid";
		case FIELD_INT:
			if (!json_is_integer(v))
				return "must be an integer";
			return json_integer_value(v) < f->min || json_integer_value(v) > f->max
				? "is out of range" : NULL;
		case FIELD_NUMBER:
			if (!json_is_number(v))
				return "must be a number";
			return json_number_value(v) < f->min || json_number_value(v) > f->max
				? "is out of range" : NULL;
		case FIELD_BOOL:
			return json_is_boolean(v) ? NULL : "must be true or false";
		case FIELD_UUID_ARRAY:
			return check_array(f, v, uuid_item, "must be an array of uuids");
		case FIELD_STRING_ARRAY:
			return check_array(f, v, short_string_item, "must be an array of strings");
		case FIELD_ARRAY:
			return check_array(f, v, NULL, "must be an array");
		case FIELD_OBJECT:
			if (!json_is_object(v))
				return "must be an object";
			return f->max > 0 && object_size(v) > (size_t) f->max ? "is too large" : NULL;
	}
	return "is not understood";
}

static const Field *
declared(const Field *fields, const char *name)
{
	for (const Field *f = fields; f && f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Check body against fields; returns NULL when valid, else {"field": "problem"}. */
json_t *
validate_body(const Field *fields, json_t *body, bool strict)
{
	json_t	   *errors = json_object();
	const char *name;
	json_t	   *v;

	for (const Field *f = fields; f && f->name; f++)
	{
		const char *problem;

		v = json_object_get(body, f->name);
		if (v == NULL || (json_is_null(v) && !strict))
			problem = f->required ? "is required" : NULL;
		else if (json_is_null(v))
			problem = f->nullable ? NULL : "must not be null";
		else
			problem = check_value(f, v);
		if (problem)
			json_object_set_new(errors, f->name, json_string(problem));
	}
	if (strict)
		json_object_foreach(body, name, v)
			if (declared(fields, name) == NULL)
			json_object_set_new(errors, name, json_string("is not a field of this request"));
	if (json_object_size(errors) == 0)
	{
		json_decref(errors);
		return NULL;
	}
	return errors;
}

/* Significant digits of the number token at s (length n): leading zeros and
 * zeros at the end of the mantissa say nothing about its precision. */
static int
significant_digits(const char *s, size_t n)
{
	char		digits[64];
	int			count = 0,
				first = 0;

	for (size_t i = 0; i < n && s[i] != 'e' && s[i] != 'E'; i++)
		if (s[i] >= '0' && s[i] <= '9' && count < (int) sizeof(digits))
			digits[count++] = s[i];
	while (first < count && digits[first] == '0')
		first++;
	while (count > first && digits[count - 1] == '0')
		count--;
	return count - first;
}

/*
 * The offset of the first number in a JSON text that a double cannot carry
 * exactly enough (a fraction or exponent with more than 15 significant
 * digits: jansson reads those as doubles and 100.000000000000001 would be
 * stored as 100), or -1 when there is none.  Integers are read exactly.
 * The text has been parsed already, so its strings and numbers are well
 * formed.
 */
long
inexact_number_at(const char *text, size_t len)
{
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = text[i];
		size_t		start = i;
		bool		real = false;

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
		{
			in_string = true;
			continue;
		}
		if (c != '-' && (c < '0' || c > '9'))
			continue;
		while (i < len && strchr("-+0123456789.eE", text[i]) != NULL)
			real |= (text[i] == '.' || text[i] == 'e' || text[i] == 'E'), i++;
		if (real && significant_digits(text + start, i - start) > 15)
			return (long) start;
		i--;
	}
	return -1;
}
