/* test_farm_state: the point state machine's legal-transition table
 * (farm_point_move, engine/farm/farm.c).  Every (from, to) pair of the six
 * states is driven from a fresh state and counts: the legal ones (the
 * table written above it: pending, failed, interrupted -> running; running
 * -> running, done, failed, interrupted) move the state and the counts by
 * exactly one, every other one is refused with the state and counts left
 * as they were.  Out-of-range states are refused too. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "farm.h"

static int expected_legal(int from, int to)
{
	if (to == ARCHIVE_RUNNING)
		return from == ARCHIVE_PENDING || from == ARCHIVE_RUNNING ||
		       from == ARCHIVE_FAILED || from == ARCHIVE_INTERRUPTED;
	return from == ARCHIVE_RUNNING &&
	       (to == ARCHIVE_DONE || to == ARCHIVE_FAILED ||
		to == ARCHIVE_INTERRUPTED);
}

int main(void)
{
	int nlegal = 0;
	for (int from = 0; from < ARCHIVE_NSTATES; from++)
		for (int to = 0; to < ARCHIVE_NSTATES; to++) {
			int counts[ARCHIVE_NSTATES] = {0}, before[ARCHIVE_NSTATES];
			int8_t st = (int8_t)from;
			counts[from] = 3;
			counts[to] += 5;
			memcpy(before, counts, sizeof counts);
			const int rc = farm_point_move(&st, counts, to);
			if (expected_legal(from, to)) {
				nlegal++;
				CHECK(rc == 0 && st == to, "%s -> %s refused",
				      archive_state_name(from),
				      archive_state_name(to));
				CHECK(counts[from] == before[from] - (from != to) &&
				      counts[to] == before[to] + (from != to),
				      "%s -> %s: counts not moved by one",
				      archive_state_name(from),
				      archive_state_name(to));
			} else {
				CHECK(rc != 0, "illegal %s -> %s accepted",
				      archive_state_name(from),
				      archive_state_name(to));
				CHECK(st == from && !memcmp(counts, before,
							    sizeof counts),
				      "refused %s -> %s changed the state",
				      archive_state_name(from),
				      archive_state_name(to));
			}
		}
	CHECK(nlegal == 7, "%d legal transitions, the table has 7", nlegal);

	/* the illegal moves a scheduler bug could make, spelled out */
	int counts[ARCHIVE_NSTATES] = {0};
	int8_t st = ARCHIVE_DONE;
	counts[ARCHIVE_DONE] = 1;
	CHECK(farm_point_move(&st, counts, ARCHIVE_RUNNING) != 0 &&
	      st == ARCHIVE_DONE && counts[ARCHIVE_DONE] == 1 &&
	      counts[ARCHIVE_RUNNING] == 0,
	      "done -> running (a done point run again) accepted");
	st = ARCHIVE_OTHER_SHARD;
	CHECK(farm_point_move(&st, counts, ARCHIVE_RUNNING) != 0 &&
	      st == ARCHIVE_OTHER_SHARD,
	      "other-shard -> running (another shard's point) accepted");
	st = ARCHIVE_PENDING;
	CHECK(farm_point_move(&st, counts, ARCHIVE_DONE) != 0 &&
	      st == ARCHIVE_PENDING,
	      "pending -> done (never ran) accepted");
	/* out of range, both ways */
	st = ARCHIVE_RUNNING;
	CHECK(farm_point_move(&st, counts, ARCHIVE_NSTATES) != 0 &&
	      farm_point_move(&st, counts, -1) != 0 && st == ARCHIVE_RUNNING,
	      "a state out of range accepted");
	st = (int8_t)ARCHIVE_NSTATES;
	CHECK(farm_point_move(&st, counts, ARCHIVE_RUNNING) != 0,
	      "a move from a state out of range accepted");
	return check_done("test_farm_state");
}
