/*
 * link_guard.h - what a peer that does not authenticate may cost a parent,
 * and what it may learn (issue 8, findings 4 and 9).
 *
 * Every frame that does not open (link_seal.h) is answered, at most, with
 * the one cleartext LINK_GUARD_REFUSAL, which names no node: the reason
 * (unknown node, not our child, revoked key, wrong key...) goes to the
 * parent's log only, at most one line per second per remote address, with
 * the count of the lines left out.
 *
 * Why a refusal may go unanswered. nng 1.5.2's TCP transport can hang its
 * only reaper thread for good when a pipe is closed while a frame of that
 * pipe is being read: tcptran_pipe_recv_cb re-arms the read of the next
 * frame on an aio the close has already stopped, nni_aio_begin fails
 * silently, and pipe_destroy waits in rep0_pipe_stop -> nni_aio_stop(
 * &aio_recv) forever. From then on no pipe or TCP connection of the process
 * is ever freed: every later connection, hostile or not, keeps its
 * descriptor. Upstream fix: nanomsg/nng#1636 (commit a1bc737b, "Finish
 * receive aio on close", released in nng 1.6.0). A peer that pipelines
 * frames and resets makes our refusal's send fail, and rep0 closes the
 * pipe on that failure while the next frames are still being read.
 * Hence, on nng < 1.6.0, a cleartext refusal goes out
 *   - at most once per LINK_GUARD_ANSWER_EVERY_MS per remote address (never
 *     to a peer whose address could not be read: it had reset already);
 *   - after a wait of LINK_GUARD_DELAY_MS plus a random part of
 *     LINK_GUARD_JITTER_MS (in at most LINK_GUARD_WAITERS workers at once;
 *     the others answer nothing), so that a peer that has gone has its
 *     remaining frames read and its pipe closed by the read side, and a
 *     peer cannot time its reset to the instant of the answer;
 *   - only if the pipe is still open and carried at most
 *     LINK_GUARD_PIPELINE frames that do not open since it was last idle (a
 *     child has at most two requests outstanding: its sender and its
 *     poller; its authenticated requests do not count).
 * We never close a pipe ourselves (nng_pipe_close races the same way). This
 * narrows the race; it cannot close it: a peer that sends at most two
 * frames, waits, and bursts frames and a reset exactly as the answer goes
 * out can still hang the reaper. So a canary checks every 5 s that nng
 * still frees pipes, and stops the node with a fatal line if not. A child
 * whose frames do not open gets the refusal 50..250 ms late, at most once
 * every 10 s (its other attempts time out). Authenticated requests are not
 * touched. With nng >= 1.6.0 none of this applies: refusals go out at once.
 *
 * SECURITY: the pipe table holds only pipes with a frame being opened (at
 * most link_workers; an authenticated request leaves it, parked or not),
 * the address table is fixed-size; neither grows with the
 * number of hostile connections.
 */
#ifndef RELAY_LINK_GUARD_H
#define RELAY_LINK_GUARD_H

#include <nng/nng.h>

struct node;

/* The one answer to every frame that does not open. */
#define LINK_GUARD_REFUSAL "not authenticated"
#define LINK_GUARD_DELAY_MS 50
#define LINK_GUARD_JITTER_MS 200
#define LINK_GUARD_ANSWER_EVERY_MS 10000
#define LINK_GUARD_WAITERS 4
#define LINK_GUARD_PIPELINE 2

/* link_guard_start - watch pipes on sock (the downstream socket); logs
 * once which nng this is and, on nng < 1.6.0, starts the reaper canary. */
void link_guard_start(struct node *n, nng_socket sock);
/* link_guard_stop - join the canary (after n->stopping is set). */
void link_guard_stop(void);

/* link_guard_pipe_added, link_guard_pipe_removed - the downstream socket's
 * pipe events (ADD_POST, REM_POST), passed on by link_down.c, which owns
 * the socket's callbacks. */
void link_guard_pipe_added(nng_pipe p);
void link_guard_pipe_removed(nng_pipe p);

/* link_guard_enter - a worker holds a request of pipe p; pair with
 * link_guard_leave when it is answered (or dropped). */
void link_guard_enter(nng_pipe p);
void link_guard_leave(nng_pipe p);

/* link_guard_log - the reason a frame of pipe p was refused, as claimed by
 * peer (may be empty), rate-limited per remote address. */
void link_guard_log(nng_pipe p, const char *peer, const char *detail);

/* link_guard_may_refuse - whether the cleartext refusal may be sent on p
 * now (see above; may wait LINK_GUARD_DELAY_MS, interrupted when n stops):
 * 1 send it, 0 answer nothing. */
int link_guard_may_refuse(struct node *n, nng_pipe p);

#endif
