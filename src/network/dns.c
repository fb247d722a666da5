/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS packets: parse a query's question and answer it from the names of a network. Only
 * what the embedded resolver needs (RFC 1035 §4): one question, no compression in it,
 * answers that point back at it. Everything here reads untrusted bytes from containers.
 */
#include <arpa/inet.h>

#include "network.h"

#define DNS_HDR 12
#define DNS_TTL 600
#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_CLASS_IN 1
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

int net_dns_parse_query(const uint8_t *p, size_t n, struct net_dns_question *ret)
{
	size_t off = DNS_HDR, len = 0;

	if (n < DNS_HDR)
		return -EBADMSG;
	ret->id = get16(p);
	ret->flags = get16(p + 2);
	if ((ret->flags & DNS_FLAG_QR) || get16(p + 4) != 1)
		return -EBADMSG;
	for (;;) {
		if (off >= n)
			return -EBADMSG;
		uint8_t l = p[off++];
		if (l == 0)
			break;
		if (l & 0xc0) /* a pointer, or a reserved label type */
			return -EBADMSG;
		if (off + l > n || len + l + 1 > sizeof(ret->name) - 1)
			return -EBADMSG;
		if (len)
			ret->name[len++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			uint8_t c = p[off + i];
			/* a dot or a control byte in a label cannot match a name of ours;
			 * refusing them keeps "a.b" as one label from aliasing two */
			if (c <= ' ' || c == '.' || c >= 0x7f)
				return -EBADMSG;
			ret->name[len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		off += l;
	}
	ret->name[len] = 0;
	if (off + 4 > n)
		return -EBADMSG;
	ret->qtype = get16(p + off);
	ret->qclass = get16(p + off + 2);
	ret->end = off + 4;
	return 0;
}

/* The header and question of the reply; returns its length or -EBADMSG. */
static int reply_start(const uint8_t *q, const struct net_dns_question *qq, int rcode, uint8_t *out,
		       size_t out_size)
{
	if (qq->end > out_size)
		return -EBADMSG;
	memcpy(out, q, qq->end);
	put16(out + 2,
	      DNS_FLAG_QR | (qq->flags & (0x7800 | DNS_FLAG_RD)) | DNS_FLAG_RA | (rcode & 0xf));
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	return (int)qq->end;
}

int net_dns_error_reply(const uint8_t *q, size_t n, int rcode, uint8_t *out, size_t out_size)
{
	struct net_dns_question qq;
	int r = net_dns_parse_query(q, n, &qq);
	if (r < 0)
		return r;
	return reply_start(q, &qq, rcode, out, out_size);
}

/* "4.3.2.1.in-addr.arpa" → 1.2.3.4 */
static bool parse_reverse(const char *name, struct in_addr *ret)
{
	const char *end = endswith(name, ".in-addr.arpa") ? name + strlen(name) - 13 : NULL;
	unsigned o[4];
	int k = 0;

	if (!end)
		return false;
	for (const char *s = name; s < end; k++) {
		if (k == 4 || *s < '0' || *s > '9')
			return false;
		unsigned v = 0;
		size_t digits = 0;
		while (s < end && *s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (v > 255 || (s < end && *s++ != '.'))
			return false;
		o[k] = v;
	}
	if (k != 4)
		return false;
	ret->s_addr = htonl(o[3] << 24 | o[2] << 16 | o[1] << 8 | o[0]);
	return true;
}

/* Encode a dotted name as labels; returns the length or -1 when it does not fit. */
static int encode_name(const char *name, uint8_t *out, size_t size)
{
	size_t off = 0;
	const char *s = name;

	while (*s) {
		size_t l = strcspn(s, ".");
		if (l == 0 || l > 63 || off + 1 + l + 1 > size)
			return -1;
		out[off++] = (uint8_t)l;
		memcpy(out + off, s, l);
		off += l;
		s += l;
		if (*s == '.')
			s++;
	}
	if (off + 1 > size)
		return -1;
	out[off++] = 0;
	return (int)off;
}

/* One answer pointing at the question's name (offset 12). */
static size_t put_rr(uint8_t *p, uint16_t type, const void *rdata, uint16_t rdlen)
{
	put16(p, 0xc000 | DNS_HDR);
	put16(p + 2, type);
	put16(p + 4, DNS_CLASS_IN);
	put16(p + 6, 0);
	put16(p + 8, DNS_TTL);
	put16(p + 10, rdlen);
	memcpy(p + 12, rdata, rdlen);
	return 12u + rdlen;
}

int net_dns_respond(const uint8_t *q, size_t n, const struct net_dns_lookup *l, uint8_t *out,
		    size_t out_size)
{
	struct net_dns_question qq;
	struct in_addr addrs[16], a;
	size_t cap = out_size < 512 ? out_size : 512;
	int r, k;

	r = net_dns_parse_query(q, n, &qq);
	if (r < 0)
		return r;
	if (((qq.flags >> 11) & 0xf) != 0 || qq.qclass != DNS_CLASS_IN || !qq.name[0])
		return 0;

	if (qq.qtype == DNS_TYPE_PTR && parse_reverse(qq.name, &a)) {
		char name[256];
		uint8_t rdata[256];
		if (!l->reverse || l->reverse(l->userdata, a, name) < 0)
			return 0;
		int rl = encode_name(name, rdata, sizeof(rdata));
		if (rl < 0)
			return 0;
		r = reply_start(q, &qq, 0, out, cap);
		if (r < 0 || (size_t)r + 12 + (size_t)rl > cap)
			return -EBADMSG;
		r += (int)put_rr(out + r, DNS_TYPE_PTR, rdata, (uint16_t)rl);
		put16(out + 6, 1);
		return r;
	}

	k = l->lookup ? l->lookup(l->userdata, qq.name, addrs, ELEMENTSOF(addrs)) : -ENOENT;
	if (k < 0)
		return 0;
	r = reply_start(q, &qq, 0, out, cap);
	if (r < 0)
		return r;
	if (qq.qtype != DNS_TYPE_A)
		return r; /* a name of ours with no records of that type */
	uint16_t an = 0;
	for (int i = 0; i < k && i < (int)ELEMENTSOF(addrs) && (size_t)r + 16 <= cap; i++, an++)
		r += (int)put_rr(out + r, DNS_TYPE_A, &addrs[i], 4);
	put16(out + 6, an);
	return r;
}
