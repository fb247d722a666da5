/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lazy: libcurl, libarchive and zlib loaded on first use (dlopen), for berthd; libssl and
 * libcrypto too, for a TLS listener only (crypto.c; digests are nettle's, which is linked
 * statically).
 *
 * berthd links against these stubs instead of -lcurl and -larchive: each stub resolves the
 * real function with dlsym on its first call and jumps to it afterwards. The libraries and
 * the dozens they pull in (GnuTLS, Kerberos, LDAP, libxml2, ICU, libstdc++, …) are then
 * mapped only once a pull, push, load, save or import needs them, so an idle daemon pays
 * neither their relocation at start-up nor their resident pages (the issue 3 memory goal).
 * Why not the libraries' own lazy binding: the dynamic loader maps and relocates every
 * DT_NEEDED library at exec whatever the binding mode; only dlopen defers that.
 *
 * Every libcurl, libarchive or zlib function berthd calls must have a stub in curl.c,
 * archive.c or zlib.c: a new call fails to link berthd until it gets one (the compiler checks each
 * stub against the library's own prototype).
 */
#ifndef BERTH_LAZY_H
#define BERTH_LAZY_H

/* The address of name in the library soname, loading it on first use, stored in *slot (a
 * stub's cache, cleared when the library is closed); aborts with a message when the library
 * or the symbol is missing (they are package dependencies). */
void *lazy_sym(const char *soname, const char *name, void **slot);

/*
 * A request begins and ends (berthd's router, around every handler). Objects of these
 * libraries (an archive, a curl handle) live only within a request, so with none in flight
 * the libraries that can be closed are closed (lazy_trim).
 */
void lazy_enter(void);
void lazy_leave(void);

/*
 * Once image or registry work is over: close libarchive and zlib (at once, or when the last
 * request in flight ends), and unmap the pages of code and read-only data of the libraries
 * loaded since start-up that stay (never a page written since it was mapped), so that an
 * idle daemon's resident set is its own again. The pages stay in the page cache; the next
 * use faults them back in (minor faults). Then the free memory of the heap goes back too
 * (malloc_trim). berthd's API calls it after image and registry requests; a no-op before
 * anything was loaded. Thread-safe.
 */
void lazy_trim(void);

/* In a stub: fn is the real function, resolved on the first call, then read without a
 * lock. */
#define LAZY_REAL(soname, name)                                                                    \
	static __typeof__(name) *real_;                                                            \
	__typeof__(name) *fn = __atomic_load_n(&real_, __ATOMIC_ACQUIRE);                          \
	if (!fn) {                                                                                 \
		fn = (__typeof__(name) *)lazy_sym(soname, #name, (void **)&real_);                 \
	}

/* A stub returning the real function's value, and one for a void function. */
#define LAZY_STUB(soname, ret, name, params, args)                                                 \
	ret name params                                                                            \
	{                                                                                          \
		LAZY_REAL(soname, name);                                                           \
		return fn args;                                                                    \
	}
#define LAZY_STUB_VOID(soname, name, params, args)                                                 \
	void name params                                                                           \
	{                                                                                          \
		LAZY_REAL(soname, name);                                                           \
		fn args;                                                                           \
	}

#endif
