/* SPDX-License-Identifier: Apache-2.0 */
/* src/basic/digest.h (nettle's SHA-256, checked against OpenSSL's) and src/basic/base64.h. */
#include <openssl/evp.h>

#include "basic/base64.h"
#include "basic/basic.h"
#include "basic/digest.h"
#include "test.h"

static char *openssl_digest(const void *p, size_t n)
{
	unsigned char md[32];
	unsigned len = 0;
	char *s = xmalloc(DIGEST_LEN + 1);

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	strcpy(s, "sha256:");
	for (unsigned i = 0; i < len; i++)
		sprintf(s + 7 + 2 * i, "%02x", md[i]);
	return s;
}

static void test_digest_vectors(void)
{
	_cleanup_free_ char *empty = digest_buf("", 0), *abc = digest_buf("abc", 3);
	_cleanup_free_ char *million = NULL, *again = NULL;
	struct digest d;

	CHECK_STREQ(empty,
		    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STREQ(abc, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(strlen(abc), DIGEST_LEN);

	/* FIPS 180-2: a million 'a', fed in pieces that straddle the 64-byte blocks */
	digest_init(&d);
	for (size_t left = 1000000, k = 1; left; k = k % 97 + 13) {
		char a[128];
		size_t n = k < left ? k : left;
		memset(a, 'a', n);
		digest_update(&d, a, n);
		left -= n;
	}
	million = digest_final(&d);
	CHECK_STREQ(million,
		    "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* digest_final leaves the state as digest_init does */
	again = digest_final(&d);
	CHECK_STREQ(again, empty);
}

static void test_digest_like_openssl(void)
{
	static unsigned char buf[70000];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t n = 0; n < sizeof(buf); n = n * 3 + 1) {
		_cleanup_free_ char *want = openssl_digest(buf, n), *one = digest_buf(buf, n),
				    *split = NULL;
		struct digest *d = xnew0(struct digest, 1); /* on the heap too */

		digest_init(d);
		digest_update(d, buf, n / 3);
		digest_update(d, buf + n / 3, 0);
		digest_update(d, buf + n / 3, n - n / 3);
		split = digest_final(d);
		free(d);
		CHECK_STREQ(one, want);
		CHECK_STREQ(split, want);
	}
}

static void test_base64_encode(void)
{
	/* RFC 4648 §10 */
	static const char *const want[] = {"",	       "Zg==",	   "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];

	for (size_t n = 0; n < ELEMENTSOF(want); n++) {
		CHECK_INT(base64_encode(out, "foobar", n), BASE64_LEN(n));
		CHECK_STREQ(out, want[n]);
	}
	CHECK_INT(base64_encode(out, "\xfb\xff\xfe", 3), 4);
	CHECK_STREQ(out, "+//+");
}

static void check_decode(const char *in, const char *want, size_t want_len)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	int r = base64_decode(in, strlen(in), &out, &len);

	CHECK_INT(r, 0);
	if (r < 0)
		return;
	CHECK_INT(len, want_len);
	CHECK(memcmp(out, want, want_len) == 0);
	CHECK_INT(out[len], 0);
}

static void check_decode_fails(const char *in)
{
	char *out = NULL;
	size_t len = 0;

	CHECK_INT(base64_decode(in, strlen(in), &out, &len), -EINVAL);
	CHECK(!out);
}

static void test_base64_decode(void)
{
	check_decode("", "", 0);
	check_decode("Zm9vYmFy", "foobar", 6);
	check_decode("Zm9vYg==", "foob", 4);
	check_decode("Zm9vYg=", "foob", 4); /* part of the padding */
	check_decode("Zm9vYg", "foob", 4);  /* none: what docker's base64url may send */
	check_decode("Zm9vYmE", "fooba", 5);
	check_decode("+//+", "\xfb\xff\xfe", 3);
	check_decode("-__-", "\xfb\xff\xfe", 3);
	check_decode("-/_+", "\xfb\xff\xfe", 3); /* the alphabets mixed */
	check_decode("eyJ1c2VybmFtZSI6InUifQ", "{\"username\":\"u\"}", 16);

	check_decode_fails("Zm9v!");
	check_decode_fails("Zm 9v");
	check_decode_fails("Zm9v\n");
	check_decode_fails("Zg=v");	 /* '=' before the end */
	check_decode_fails("Zm9vY");	 /* 4k + 1 */
	check_decode_fails("Zm9vY===");	 /* 4k + 1 and three '=' */
	check_decode_fails("Zm9vYmE=="); /* more '=' than the group lacks */
	check_decode_fails("Zm9v=");
	check_decode_fails("=");
	check_decode_fails("====");
}

static void test_base64_round_trip(void)
{
	unsigned char in[300];
	char enc[BASE64_LEN(sizeof(in)) + 1];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n += 7) {
		_cleanup_free_ char *out = NULL;
		size_t len = 0, m = base64_encode(enc, in, n);

		CHECK_INT(m, BASE64_LEN(n));
		CHECK_INT(base64_decode(enc, m, &out, &len), 0);
		CHECK_INT(len, n);
		CHECK(out && memcmp(out, in, n) == 0);
	}
}

int main(void)
{
	RUN(test_digest_vectors);
	RUN(test_digest_like_openssl);
	RUN(test_base64_encode);
	RUN(test_base64_decode);
	RUN(test_base64_round_trip);
	return TEST_SUMMARY();
}
