// views.js - every view of the console, in the order of the menu. A view
// is { id, title (label key), tiers, role, nav (in the menu), render }:
// see app.js. Add a view by importing its module here.
export const VIEWS = [];

// register - add view modules (each module's default export)
export function register(...views) {
  for (const v of views) VIEWS.push(v);
}
