/*
 * bare.c: the baseline of the shim benchmark -- libmicrohttpd in the shim's
 * own mode (thread pool over epoll) answering a fixed JSON body, nothing else.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"success\",\"status_code\":200,\"message\":\"ok\",\"data\":{}}";

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **state)
{
	static int	seen;
	struct MHD_Response *r;
	enum MHD_Result ret;

	/*
	 * Answer on the second call, as the shim does: a response queued on the
	 * first call, before MHD has read the whole request, closes the
	 * connection, and a baseline without keep-alive would flatter the shim.
	 */
	if (*state == NULL)
	{
		*state = &seen;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *) body, MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
											(uint16_t) atoi(argv[1]), NULL, NULL, answer, NULL,
											MHD_OPTION_THREAD_POOL_SIZE, 8, MHD_OPTION_END);

	if (d == NULL)
		return 1;
	pause();
	MHD_stop_daemon(d);
	return 0;
}
