/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "basic.h"

enum log_level log_max_level = LOG_LEVEL_WARN;
static int log_fd = STDERR_FILENO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;

void log_setup(int fd, enum log_level level, enum log_format format)
{
	log_fd = fd;
	log_max_level = level;
	log_fmt = format;
}

void log_close(void)
{
	if (log_fd > STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

static void json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	char msg[2048], line[4200];
	va_list ap;
	int n;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fmt == LOG_FORMAT_JSON) {
		char esc[4100];
		struct timespec ts;
		char tbuf[40];
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", names[level],
			     esc, tbuf);
	} else {
		n = snprintf(line, sizeof(line), "%s\n", msg);
	}
	if (n > 0)
		(void)loop_write(log_fd, line,
				 (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
