/* spec_refine: the `refine:` section of the spec (spec_refine.h). */
#include "spec_refine.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFINE_CHI_MAX 100000       /* truncate.chi_max's limit */
#define REFINE_MEMORY_LIMIT 1099511627776.0 /* 1 TiB per point */

__attribute__((format(printf, 4, 5))) static int fail(char *err,
						      const char *fname,
						      const yaml_node_t *n,
						      const char *fmt, ...)
{
	char msg[EU_ERRLEN / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err, EU_ERRLEN, "%.300s:%zu:%zu: %s", fname,
		 n ? n->start_mark.line + 1 : 1,
		 n ? n->start_mark.column + 1 : 1, msg);
	return -1;
}

static int is_key(const yaml_node_t *k, const char *name)
{
	return k->type == YAML_SCALAR_NODE &&
	       k->data.scalar.length == strlen(name) &&
	       !memcmp(k->data.scalar.value, name, k->data.scalar.length);
}

/* one entry: the base hash, chi_max and the reason's presence */
static int entry(yaml_document_t *doc, yaml_node_t *e, const char *fname,
		 char *hash, int *chi, yaml_node_t **chi_node, char *err)
{
	yaml_node_t *h = NULL, *c = NULL, *r = NULL;
	if (e->type != YAML_MAPPING_NODE)
		return fail(err, fname, e,
			    "refine: each entry is a mapping { point: HASH, "
			    "chi_max: N, reason: TEXT }");
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
	     p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		yaml_node_t **slot = is_key(k, "point")     ? &h
				     : is_key(k, "chi_max") ? &c
				     : is_key(k, "reason")  ? &r
							    : NULL;
		if (!slot)
			return fail(err, fname, k,
				    "unknown key in a refine: entry (allowed: "
				    "point, chi_max, reason)");
		if (*slot)
			return fail(err, fname, k,
				    "duplicate key in a refine: entry");
		if (v->type != YAML_SCALAR_NODE)
			return fail(err, fname, v,
				    "refine: expected a scalar value");
		*slot = v;
	}
	if (!h || !c || !r)
		return fail(err, fname, e,
			    "refine: an entry needs point, chi_max and "
			    "reason");
	if (h->data.scalar.length != 16 ||
	    strspn((const char *)h->data.scalar.value, "0123456789abcdef") <
		    16)
		return fail(err, fname, h,
			    "refine: point must be a point hash (16 hex "
			    "digits)");
	memcpy(hash, h->data.scalar.value, 16);
	hash[16] = 0;
	char buf[32], *end;
	size_t n = c->data.scalar.length;
	if (n == 0 || n >= sizeof buf)
		return fail(err, fname, c, "refine: chi_max must be an "
					   "integer");
	memcpy(buf, c->data.scalar.value, n);
	buf[n] = 0;
	long v = strtol(buf, &end, 10);
	if (*end || v < 1 || v > REFINE_CHI_MAX)
		return fail(err, fname, c,
			    "refine: chi_max must be an integer in [1, %d], "
			    "got '%s'",
			    REFINE_CHI_MAX, buf);
	*chi = (int)v;
	*chi_node = c;
	return 0;
}

int spec_refine_apply(spec_t *s, yaml_document_t *doc, yaml_node_t *node,
		      const char *fname, char *err)
{
	if (!node)
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return fail(err, fname, node,
			    "refine: expected a list of { point: HASH, "
			    "chi_max: N, reason: TEXT }");
	int ne = (int)(node->data.sequence.items.top -
		       node->data.sequence.items.start);
	int n0 = s->npoints;
	spec_point_t *pts = realloc(s->points,
				    ((size_t)n0 + (size_t)ne + 1) * sizeof *pts);
	if (!pts)
		return fail(err, fname, node, "out of memory");
	s->points = pts;
	for (int k = 0; k < ne; k++) {
		yaml_node_t *e = yaml_document_get_node(
			doc, node->data.sequence.items.start[k]);
		yaml_node_t *cn = NULL;
		char hash[17], buf[1024];
		int chi = 0, base = -1, n = s->npoints;
		if (entry(doc, e, fname, hash, &chi, &cn, err))
			return -1;
		for (int i = 0; i < n && base < 0; i++)
			if (!strcmp(pts[i].hash_hex, hash))
				base = i;
		if (base < 0)
			return fail(err, fname, e,
				    "refine: no point of hash %s before this "
				    "entry",
				    hash);
		spec_point_t *q = &pts[n];
		*q = pts[base];
		q->id = n;
		q->chi_max = chi;
		int len = spec_point_canonical(q, buf, sizeof buf);
		q->hash = eu_fnv1a(EU_FNV_INIT, buf,
				   len < 0 ? 0 : (size_t)len);
		snprintf(q->hash_hex, sizeof q->hash_hex, "%016" PRIx64,
			 q->hash);
		for (int i = 0; i < n; i++)
			if (pts[i].hash == q->hash)
				return fail(err, fname, cn,
					    "refine: point %d at chi_max %d is "
					    "already point %d of the sweep",
					    base, chi, i);
		if (spec_point_memory_bytes(q) > REFINE_MEMORY_LIMIT)
			return fail(err, fname, cn,
				    "refine: chi_max = %d with L = %d needs "
				    "more than 1 TiB of memory per point",
				    chi, q->L);
		s->npoints = n + 1;
	}
	return 0;
}
