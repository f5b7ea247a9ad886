// views-all.js - registers every view module with views.js, in menu order
// (each engineer's views in one line, so that parallel work merges cleanly).
import { register } from './views.js';
import now from './view-now.js';
import incident from './view-incident.js';
import links from './view-links.js';
import audit from './view-audit.js';
import file from './view-file.js';
import inbox from './view-inbox.js';
import drillNotices from './view-drills-in.js';
register(now, incident, links, audit, file, inbox, drillNotices);
import queue from './view-queue.js';
import board from './view-board.js';
import advisories from './view-advisories.js';
import drills from './view-drills.js';
import late from './view-late.js';
import escalations from './view-escalations.js';
import support from './view-support.js';
import directory from './view-directory.js';
register(queue, board, advisories, drills, late, escalations, support, directory);
