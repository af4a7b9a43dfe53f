// The studio's front-end catalog: every Russian text the page shows lives here, by name.
// Server-side texts (errors, stages, the analysis) come from texts.py through the API.
export const T = {};
