/* SPDX-License-Identifier: MIT */
/*
 * mdesiemd --replay FROM [--until TO] [--tenant NAME]: a past range read
 * again and sent through the configured output, without touching the
 * live state.  A replay is a --once run of every tenant (or one) whose
 * state lives in the state directory's replay/ area, whose windows start
 * at FROM and end at TO, and whose messages carry the replay marker.
 */
#ifndef REPLAY_H
#define REPLAY_H

#include "ts.h"

struct config_set;

/*
 * The oldest FROM a replay reads: Defender keeps alerts for its
 * configured retention period, 180 days at most (reference/mde-api.md
 * 5.4: "alerts last updated according to your configured retention
 * period").
 */
#define REPLAY_RETENTION_DAYS 180

/*
 * Make set a replay of [from, to] (the command-line arguments; to NULL:
 * now), of tenant (NULL: every tenant): check the range (to not before
 * from, from not past the retention nor in the future), keep only that
 * tenant, point every tenant's state at STATE/replay (emptied when it
 * holds another range, said in the log; kept, so that it resumes, for the
 * same command), start its windows at FROM and end them at TO, and mark
 * its messages.  Locks STATE/replay: *lockfd is the lock (the caller
 * closes it).  Returns 0, or an exit status (messages written).
 */
int replay_prepare(struct config_set *set, const char *from, const char *to,
    const char *tenant, int *lockfd);

#endif
