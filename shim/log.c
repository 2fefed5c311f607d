/* log.c: one JSON object per line on stderr, so logs can be read by machines. */
#include "shim.h"

#include <stdio.h>
#include <time.h>

void
log_event(const char *level, const char *message, const char *detail)
{
	json_t	   *line = json_pack("{s:s, s:s, s:I}", "level", level, "message", message,
								 "ts", (json_int_t) time(NULL));
	char	   *text;

	if (detail)
		json_object_set_new(line, "detail", json_string(detail));
	text = json_dumps(line, JSON_COMPACT);
	fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}
