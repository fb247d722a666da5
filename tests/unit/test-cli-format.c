/* SPDX-License-Identifier: Apache-2.0 */
/* docker's human units (go-units), TruncateID, Ellipsis, Quote, ports and the flag parser. */
#include "cli/cli.h"
#include "test.h"

#define S 1000000000LL

static void check_dur(int64_t ns, const char *want)
{
	char *s = format_human_duration(ns);
	CHECK_STREQ(s, want);
	free(s);
}

static void test_duration(void)
{
	check_dur(0, "Less than a second");
	check_dur(999999999, "Less than a second");
	check_dur(1 * S, "1 second");
	check_dur(5 * S, "5 seconds");
	check_dur(59 * S, "59 seconds");
	check_dur(60 * S, "About a minute");
	check_dur(119 * S, "About a minute");
	check_dur(120 * S, "2 minutes");
	check_dur(59 * 60 * S, "59 minutes");
	check_dur(60 * 60 * S, "About an hour");
	check_dur(89 * 60 * S, "About an hour");
	check_dur(90 * 60 * S, "2 hours");
	check_dur(47 * 3600 * S, "47 hours");
	check_dur(48 * 3600 * S, "2 days");
	check_dur(13 * 86400 * S, "13 days");
	check_dur(14 * 86400 * S, "2 weeks");
	check_dur(59 * 86400 * S, "8 weeks");
	check_dur(60 * 86400 * S, "2 months");
	check_dur(729 * 86400 * S, "24 months");
	check_dur(730 * 86400 * S, "2 years");
}

static void check_size(double v, int prec, const char *want)
{
	char *s = format_human_size(v, prec);
	CHECK_STREQ(s, want);
	free(s);
}

static void test_sizes(void)
{
	check_size(0, 3, "0B");
	check_size(999, 3, "999B");
	check_size(1000, 3, "1kB");
	check_size(1234, 3, "1.23kB");
	check_size(2100, 3, "2.1kB");
	check_size(4261550, 3, "4.26MB");
	check_size(4261550, 4, "4.262MB");
	check_size(1e9, 3, "1GB");
	check_size(123456789012.0, 3, "123GB");
	char *s = format_bytes_size(1572864);
	CHECK_STREQ(s, "1.5MiB");
	free(s);
	s = format_bytes_size(8.0 * 1024 * 1024 * 1024);
	CHECK_STREQ(s, "8GiB");
	free(s);
	s = format_bytes_size(1023);
	CHECK_STREQ(s, "1023B");
	free(s);

	int64_t v;
	CHECK(parse_size("512m", true, &v) == 0 && v == 512LL * 1024 * 1024);
	CHECK(parse_size("1g", true, &v) == 0 && v == 1024LL * 1024 * 1024);
	CHECK(parse_size("1.5GB", true, &v) == 0 && v == 1610612736LL);
	CHECK(parse_size("100", true, &v) == 0 && v == 100);
	CHECK(parse_size("64k", false, &v) == 0 && v == 64000);
	CHECK(parse_size("10x", true, &v) < 0);
	CHECK(parse_size("", true, &v) < 0);
	CHECK(parse_size("-1", true, &v) < 0);
}

static void test_ids_and_strings(void)
{
	char *s = format_truncate_id("sha256:0123456789abcdef0123");
	CHECK_STREQ(s, "0123456789ab");
	free(s);
	s = format_truncate_id("abc");
	CHECK_STREQ(s, "abc");
	free(s);
	s = format_ellipsis("nginx -g 'daemon off;'", 20);
	CHECK_STREQ(s, "nginx -g 'daemon of…");
	free(s);
	s = format_ellipsis("sleep 1000", 20);
	CHECK_STREQ(s, "sleep 1000");
	free(s);
	s = format_ellipsis("ééééé", 3);
	CHECK_STREQ(s, "éé…");
	free(s);
	s = format_quote("a\"b\\c\n\x01é…");
	CHECK_STREQ(s, "\"a\\\"b\\\\c\\n\\x01é…\"");
	free(s);
}

static void test_status(void)
{
	int64_t now = 1700000000 * S;
	char *s = format_container_status("running", 0, now - 5 * S, 0, now);
	CHECK_STREQ(s, "Up 5 seconds");
	free(s);
	s = format_container_status("paused", 0, now - 7200 * S, 0, now);
	CHECK_STREQ(s, "Up 2 hours (Paused)");
	free(s);
	s = format_container_status("exited", 137, now - 100 * S, now - 3 * S, now);
	CHECK_STREQ(s, "Exited (137) 3 seconds ago");
	free(s);
	s = format_container_status("created", 0, 0, 0, now);
	CHECK_STREQ(s, "Created");
	free(s);
	s = format_container_status("restarting", 1, now - 10 * S, now - 2 * S, now);
	CHECK_STREQ(s, "Restarting (1) 2 seconds ago");
	free(s);
}

static void check_ports(const char *json, const char *want)
{
	json_object *o = json_tokener_parse(json);
	char *s = format_ports(o);
	CHECK_STREQ(s, want);
	free(s);
	json_object_put(o);
}

static void test_ports(void)
{
	check_ports("[]", "");
	check_ports("[{\"PrivatePort\":80,\"Type\":\"tcp\"}]", "80/tcp");
	check_ports(
	    "[{\"IP\":\"0.0.0.0\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"}]",
	    "0.0.0.0:8080->80/tcp");
	check_ports("[{\"IP\":\"::\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"}]",
		    "[::]:8080->80/tcp");
	check_ports("[{\"PrivatePort\":81,\"Type\":\"tcp\"},{\"PrivatePort\":80,\"Type\":\"tcp\"},"
		    "{\"PrivatePort\":82,\"Type\":\"tcp\"},{\"PrivatePort\":53,\"Type\":\"udp\"}]",
		    "53/udp, 80-82/tcp");
	check_ports("[{\"IP\":\"0.0.0.0\",\"PrivatePort\":80,\"PublicPort\":80,\"Type\":\"tcp\"},"
		    "{\"IP\":\"0.0.0.0\",\"PrivatePort\":81,\"PublicPort\":81,\"Type\":\"tcp\"}]",
		    "0.0.0.0:80-81->80-81/tcp");
	check_ports("[{\"PrivatePort\":80,\"Type\":\"tcp\"},{\"PrivatePort\":90,\"Type\":\"tcp\"}]",
		    "80/tcp, 90/tcp");
}

static void test_times(void)
{
	int64_t ns;
	char *s = NULL;
	CHECK(parse_rfc3339("2023-11-14T22:13:20.123456789Z", &ns) == 0);
	CHECK_INT(ns, 1700000000123456789LL);
	CHECK(parse_rfc3339("2023-11-14T23:13:20+01:00", &ns) == 0);
	CHECK_INT(ns, 1700000000LL * S);
	CHECK(parse_rfc3339("0001-01-01T00:00:00Z", &ns) == 0 && ns == 0);
	CHECK(parse_rfc3339("junk", &ns) < 0);
	CHECK(parse_go_duration("1h30m", &ns) == 0 && ns == 5400 * S);
	CHECK(parse_go_duration("1.5s", &ns) == 0 && ns == 1500000000);
	CHECK(parse_go_duration("300ms", &ns) == 0 && ns == 300000000);
	CHECK(parse_go_duration("10", &ns) < 0);
	{
		/* Go's time.ParseDuration, to the nanosecond, and its messages */
		static const struct {
			const char *s;
			int64_t ns;
			const char *why;
		} t[] = {
		    {"1.000000001s", 1000000001, NULL},
		    {"0.3s", 300000000, NULL},
		    {"2.01s", 2010000000, NULL},
		    {"8.2s", 8200000000LL, NULL},
		    {".5s", 500000000, NULL},
		    {"1h2m3.000000004s", 3723000000004LL, NULL},
		    {"-1.5h", -5400 * S, NULL},
		    {"+0", 0, NULL},
		    {"1\xc2\xb5s", 1000, NULL},
		    {"2562047h47m16.854775807s", INT64_MAX, NULL},
		    {"-2562047h47m16.854775808s", INT64_MIN, NULL},
		    {"2562047h47m16.854775808s", 0,
		     "time: invalid duration \"2562047h47m16.854775808s\""},
		    {"9999999h", 0, "time: invalid duration \"9999999h\""},
		    {"x", 0, "time: invalid duration \"x\""},
		    {"", 0, "time: invalid duration \"\""},
		    {"-", 0, "time: invalid duration \"-\""},
		    {".s", 0, "time: invalid duration \".s\""},
		    {"1e3s", 0, "time: unknown unit \"e\" in duration \"1e3s\""},
		    {"1", 0, "time: missing unit in duration \"1\""},
		    {"1x", 0, "time: unknown unit \"x\" in duration \"1x\""},
		    {"1s\"", 0, "time: unknown unit \"s\\\"\" in duration \"1s\\\"\""},
		};
		for (size_t i = 0; i < ELEMENTSOF(t); i++) {
			struct error *e = NULL;
			int r = parse_go_duration_err(t[i].s, &ns, &e);
			if (t[i].why) {
				CHECK(r == -EINVAL);
				CHECK_STREQ(e ? e->msg : "(none)", t[i].why);
			} else {
				CHECK(r == 0);
				CHECK_INT(ns, t[i].ns);
			}
			error_free(e);
		}
	}
	{
		/* Go's Duration.String(), as dockerd's messages print durations */
		static const struct {
			int64_t ns;
			const char *s;
		} t[] = {{0, "0s"},
			 {999, "999ns"},
			 {1500, "1.5µs"},
			 {300000000, "300ms"},
			 {1250000, "1.25ms"},
			 {S, "1s"},
			 {1500000000, "1.5s"},
			 {90 * S, "1m30s"},
			 {120 * S, "2m0s"},
			 {3600 * S, "1h0m0s"},
			 {3661 * S + 1, "1h1m1.000000001s"},
			 {-2 * S, "-2s"}};
		for (size_t i = 0; i < ELEMENTSOF(t); i++) {
			_cleanup_free_ char *f = format_go_duration(t[i].ns);
			CHECK_STREQ(f, t[i].s);
		}
	}
	CHECK(parse_timestamp_arg("10m", 1700000600LL * S, &s) == 0);
	CHECK_STREQ(s, "1700000000");
	free(s);
	CHECK(parse_timestamp_arg("2023-11-14T22:13:20Z", 0, &s) == 0);
	CHECK_STREQ(s, "1700000000.000000000");
	free(s);
	CHECK(parse_timestamp_arg("1700000000.5", 0, &s) == 0);
	CHECK_STREQ(s, "1700000000.5");
	free(s);
	CHECK(parse_timestamp_arg("2023-13-99", 0, &s) < 0);
	CHECK(parse_timestamp_arg("x", 0, &s) < 0);
}

static void test_flags(void)
{
	bool all = false, quiet = false, help = false;
	char *name = NULL, **env = NULL, **args = NULL;
	int64_t n = -1;
	struct error *err = NULL;
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "all"},    {"quiet", 'q', FLAG_BOOL, &quiet, "q"},
	    {"name", 0, FLAG_STRING, &name, "name"}, {"env", 'e', FLAG_LIST, &env, "env"},
	    {"last", 'n', FLAG_INT, &n, "last"},
	};
	char *argv1[] = {"-aq", "--name=x", "-e",	   "A=1", "--env", "B=2",
			 "-n5", "img",	    "--all=false", "--",  "-x"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), FLAGS_INTERSPERSED, ELEMENTSOF(argv1), argv1,
			  &args, &help, &err) == 0);
	CHECK(!all && quiet && !help);
	CHECK_STREQ(name, "x");
	CHECK(strv_length(env) == 2 && streq(env[1], "B=2"));
	CHECK_INT(n, 5);
	CHECK(strv_length(args) == 2 && streq(args[0], "img") && streq(args[1], "-x"));
	strv_free(args);

	/* run/exec stop at the first argument */
	char *argv2[] = {"-a", "busybox", "ls", "-q"};
	quiet = false;
	CHECK(flags_parse(flags, ELEMENTSOF(flags), FLAGS_STOP_AT_ARG, ELEMENTSOF(argv2), argv2,
			  &args, &help, &err) == 0);
	CHECK(!quiet && strv_length(args) == 3 && streq(args[2], "-q"));
	strv_free(args);

	char *argv3[] = {"--nope"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), 0, 1, argv3, &args, &help, &err) < 0);
	CHECK_STREQ(err->msg, "unknown flag: --nope");
	error_free(err);
	err = NULL;
	char *argv4[] = {"-z"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), 0, 1, argv4, &args, &help, &err) < 0);
	CHECK_STREQ(err->msg, "unknown shorthand flag: 'z' in -z");
	error_free(err);
	err = NULL;
	char *argv5[] = {"--name"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), 0, 1, argv5, &args, &help, &err) < 0);
	CHECK_STREQ(err->msg, "flag needs an argument: --name");
	error_free(err);
	err = NULL;
	char *argv6[] = {"-n", "x"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), 0, 2, argv6, &args, &help, &err) < 0);
	CHECK_STREQ(err->msg, "invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: "
			      "parsing \"x\": invalid syntax");
	error_free(err);
	err = NULL;
	char *argv7[] = {"--help"};
	CHECK(flags_parse(flags, ELEMENTSOF(flags), 0, 1, argv7, &args, &help, &err) == 0 && help);
	strv_free(args);
	free(name);
	strv_free(env);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_duration);
	RUN(test_sizes);
	RUN(test_ids_and_strings);
	RUN(test_status);
	RUN(test_ports);
	RUN(test_times);
	RUN(test_flags);
	return TEST_SUMMARY();
}
