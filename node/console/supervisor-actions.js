// supervisor-actions.js - PLACEHOLDER (part B) until part A's
// view-incident.js lands: the list of functions (root, inc, ctx) that the
// incident detail calls with its supervisor container. When view-incident.js
// exports its own `supervisorActions`, supervise.js imports it from there
// and this file goes.
export const supervisorActions = [];
