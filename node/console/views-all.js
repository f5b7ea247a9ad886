// views-all.js - registers every view module with views.js, in menu order
// (each engineer's views in one line, so that parallel work merges cleanly).
import { register } from './views.js';
