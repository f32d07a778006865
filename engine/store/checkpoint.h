/* checkpoint: a running point's state -- its MPS, time, step count and the
 * discarded-weight accumulators -- in one file that lets the point continue
 * later exactly as if it had never stopped.  Format (magic, version,
 * layout, checksum) and the rules for using a checkpoint: engine/ARCHIVE.md,
 * section "Checkpoints".
 *
 * Files live beside the archive, in the directory ARCHIVE.h5.ckpt/, one per
 * point, named by the point's parameter hash: <hash>.ckpt.  They are written
 * atomically (a temporary file in the same directory, fsync, rename, fsync
 * of the directory), so a reader sees the old checkpoint or the new one,
 * never a mixture; a checksum over the whole file catches truncation and
 * damage.  A checkpoint is only ever used for the point whose hash it
 * records, of the sweep whose spec hash it records (ckpt_match).
 *
 * The same directory holds the lock (ckpt_lock_create) that keeps two
 * kapitza processes from working on one archive at the same time.
 *
 * Serial, no MPI: each function is called by one rank. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "eu.h"

#include <stddef.h>
#include <stdint.h>

#include "mps.h"
#include "spec.h"

#define CKPT_MAGIC "KZCKPT\r\n" /* 8 bytes, no NUL */
#define CKPT_VERSION 2         /* written; version 1 is still read */
#define CKPT_HEADER_BYTES 192  /* of version 2 (version 1: 160) */
#define CKPT_HEADER_BYTES_V1 160

typedef struct {
	int version;
	char spec_hash[17];   /* 16 hex digits of the sweep's spec hash */
	char point_hash[17];  /* 16 hex digits of the point's parameter hash */
	int point_id;         /* informative: ids are not keys */
	int attempt;          /* the attempt that wrote it */
	int L, nup;
	int row;              /* the last row measured: the state is that
	                         row's, advanced by `layer` layers */
	int layer;            /* layers of the merged sequence of the interval
	                         after `row` (tebd_run_from) already applied;
	                         0: the state of the row itself (always 0 in
	                         version 1) */
	int steps_per_measure;
	int64_t steps;        /* TEBD steps from t = 0: row * steps_per_measure
	                         + layer / (layers per step) */
	double t;             /* the row's time: row * steps_per_measure * dt */
	double dt;
	double discarded_total, discarded_max; /* the worker's accumulators,
	                                          over whole intervals */
	double layer_discarded_total, layer_discarded_max; /* the kernel's, in
	                         the interval so far (0 when layer = 0) */
	int max_bond_dim;     /* largest bond dimension of rows 0..row */
	char written[32];     /* ISO 8601 UTC */
	uint64_t payload_bytes;
} ckpt_header_t;

/* "<archive>.ckpt" into dir (capacity n).  Returns 0, or -1 if too long. */
int ckpt_dir_of(char *dir, size_t n, const char *archive_path);

/* "<dir>/<point_hash>.ckpt" into path (capacity n); 0 or -1. */
int ckpt_file_of(char *path, size_t n, const char *dir,
		 const char *point_hash);

/* Creates dir if missing.  fresh: also deletes every checkpoint and
 * temporary file in it (a new archive makes old checkpoints meaningless);
 * otherwise only leftover temporary files of killed writers. */
int ckpt_dir_prepare(const char *dir, int fresh, char *err);

/* Writes h (borrowed; payload_bytes and written are filled in here on a
 * copy) and the state m (borrowed) atomically to
 * ckpt_file_of(dir, h->point_hash).  Before it, sync_path (may be NULL: the
 * archive) is flushed to disk so the rows the checkpoint builds on are
 * durable before the checkpoint is. */
int ckpt_write(const char *dir, const ckpt_header_t *h, const mps_t *m,
	       const char *sync_path, char *err);

/* Reads and verifies the checkpoint at path: magic, version, size (a
 * truncated file is reported as such), checksum; fills *h.  If m is not
 * NULL, also rebuilds the state into a new *m (owned by the caller). */
int ckpt_read(const char *path, ckpt_header_t *h, mps_t **m, char *err);

/* Whether h may resume point p (borrowed) of the sweep with spec hash
 * spec_hash: same point hash, same spec hash, consistent L, dt, steps,
 * layer and time, a row before the last.  0 if so; otherwise -1 and err
 * says why. */
int ckpt_match(const ckpt_header_t *h, const char *spec_hash,
	       const spec_point_t *p, char *err);

/* Removes the checkpoint of point_hash in dir, if any (0 also if none). */
/* Everything a resumption needs, checked before it is trusted: ckpt_read
 * with the state rebuilt into a new *m (owned by the caller), ckpt_match,
 * and the state itself -- its length and number of up spins those of the
 * header, its bond dimensions within the point's chi_max, and its norm
 * within CKPT_NORM_TOL + the discarded weight so far of 1 (what the worker
 * demands of every row).  Resubmission's planning calls it, so a payload
 * that was changed and re-checksummed is refused before anything is
 * written; the worker calls it to resume. */
#define CKPT_NORM_TOL 1e-6
int ckpt_load(const char *path, const char *spec_hash, const spec_point_t *p,
	      ckpt_header_t *h, mps_t **m, char *err);

int ckpt_remove(const char *dir, const char *point_hash);

/* Copies the checkpoint file src into dst_dir under the name of its point
 * hash, atomically (for merge).  The copy is verified (ckpt_read) first. */
int ckpt_copy(const char *src, const char *dst_dir, char *err);

/* The archive lock: an fcntl write lock on <dir>/LOCK, held by one process
 * (rank 0 of a run or resubmission) while it works on the archive; the
 * kernel releases it when the process dies, however it dies.  Fails with a
 * message if another process holds it.  *l is owned by the caller. */
typedef struct ckpt_lock_s ckpt_lock_t;
int ckpt_lock_create(ckpt_lock_t **l, const char *dir, char *err);
void ckpt_lock_destroy(ckpt_lock_t **l);

#endif
