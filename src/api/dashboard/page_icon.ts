/**
 * The dashboard's icon (SVG), served at `/dashboard/icon.svg`.
 *
 * @module
 */

/** Three stacked blocks: the dashboard's favicon. */
export const DASHBOARD_ICON: string =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<rect x="2" y="2" width="12" height="3" rx="1" fill="#3b82f6"/>' +
  '<rect x="2" y="6.5" width="12" height="3" rx="1" fill="#10b981"/>' +
  '<rect x="2" y="11" width="12" height="3" rx="1" fill="#f59e0b"/></svg>\n';
