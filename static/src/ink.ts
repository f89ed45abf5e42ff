// Colours dark enough on white for WCAG AA where antd's defaults are not.

/** For an outlined danger button: antd's red (#ff4d4f) is 3.3:1 on white, its red-7 is 6.3:1. */
export const DANGER_INK = { color: "#cf1322", borderColor: "#cf1322" };
