/*
 * timer.h - the thread that makes due times fire.
 *
 * It looks at the earliest armed due time (store dues index) after every
 * commit, every clock move (relayctl clock) and at least once a second, and
 * asks the writer to fire what is due: the overdue notice and the fired
 * mark commit together, so each fires once, across restarts. While the
 * upstream link is down it also asks for the R-OFFLINE warning.
 */
#ifndef RELAY_TIMER_H
#define RELAY_TIMER_H

#include "err.h"

struct node;

int timer_start(struct node *n) RL_MUST_CHECK;
void timer_stop(struct node *n);

#endif
