// The antd theme of every page. The build writes antd's styles for it into a style sheet
// (vite.config.ts, antdStyles.ts), so the browser does not compute them while it draws the first
// page; a page drawn under another theme computes its own as before.
import type { ThemeConfig } from "antd";

// The brand blue and the secondary greys are darkened to meet WCAG AA contrast (4.5:1) on the
// page's grey background as well as on white, in every state: the hover and pressed blues are
// darker than the primary, not lighter as antd would derive them (a hovered button's text was 3.7:1).
export const THEME: ThemeConfig = {
  token: {
    colorPrimary: "#1961d8",
    colorPrimaryHover: "#1452b8",
    colorPrimaryActive: "#0f4394",
    // links and the "processing" / info accents derive from colorInfo (antd's #1677ff: 4.1:1)
    colorInfo: "#1961d8",
    colorLink: "#1961d8",
    colorLinkHover: "#1452b8",
    colorTextDescription: "rgba(0, 0, 0, 0.6)",
    colorTextTertiary: "rgba(0, 0, 0, 0.6)",
    // placeholders say what a select or a box is for (a filter's only label on screen): readable
    colorTextPlaceholder: "rgba(0, 0, 0, 0.54)",
  },
};
