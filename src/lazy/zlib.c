/* SPDX-License-Identifier: Apache-2.0 */
/* zlib, loaded on first use: see lazy.h. Only image and registry work compresses (tar-split
 * records, pushed layers); libarchive and libcurl load it for themselves too. */
#include <zlib.h>

#include "lazy.h"

#define SONAME "libz.so.1"

LAZY_STUB(SONAME, int, deflateInit2_,
	  (z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy,
	   const char *version, int stream_size),
	  (strm, level, method, windowBits, memLevel, strategy, version, stream_size))
LAZY_STUB(SONAME, int, deflate, (z_streamp strm, int flush), (strm, flush))
LAZY_STUB(SONAME, int, deflateEnd, (z_streamp strm), (strm))
LAZY_STUB(SONAME, gzFile, gzdopen, (int fd, const char *mode), (fd, mode))
LAZY_STUB(SONAME, int, gzwrite, (gzFile file, voidpc buf, unsigned len), (file, buf, len))
LAZY_STUB(SONAME, int, gzread, (gzFile file, voidp buf, unsigned len), (file, buf, len))
LAZY_STUB(SONAME, int, gzclose, (gzFile file), (file))
