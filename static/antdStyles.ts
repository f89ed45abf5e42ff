// antd's styles for the app's theme, written by the build into a style sheet the page links first.
//
// antd computes each component's CSS in the browser the first time the component is drawn (its
// CSS-in-JS), which made up most of the first page's longest task. @ant-design/static-style-extract
// draws every antd component once under the app's theme at build time and collects that CSS with a
// map of what it holds; antd reads the map from the sheet and skips computing any style it finds
// there. A component drawn under another theme (a nested ConfigProvider) still computes its own.
import { extractStyle } from "@ant-design/static-style-extract";
import { ConfigProvider, type ThemeConfig } from "antd";
import { createHash } from "node:crypto";
import { createElement } from "react";
import type { Plugin } from "vite";

// The components of the pages people open first (the frame, the launcher, lists, records, the
// inbox and tasks, sign-in) and antd's message and notification. Those of editing and designing
// (date and time pickers, uploads, steps, trees …) are computed when first drawn, as before: in
// the sheet they would weigh on every first load.
const FIRST = [
  "Alert", "App", "Avatar", "Badge", "Breadcrumb", "Button", "Card", "Checkbox", "Col", "Collapse",
  "Descriptions", "Divider", "Drawer", "Dropdown", "Empty", "Form", "Input", "Layout", "List",
  "Menu", "Modal", "Pagination", "Popconfirm", "Popover", "Result", "Row", "Select", "Skeleton",
  "Space", "Spin", "Table", "Tabs", "Tag", "Timeline", "Tooltip", "Typography", "message",
  "notification",
];

export function antdStyles(theme: ThemeConfig): Plugin {
  let fileName = "";
  return {
    name: "tangram:antd-styles",
    apply: "build",
    buildStart() {
      let css = extractStyle({
        includes: FIRST,
        customTheme: (node) => createElement(ConfigProvider, { theme }, node),
      });
      if (!css.includes("data-ant-cssinjs-cache-path")) {
        this.error("antd's extracted styles hold no cache map: the browser would compute them again");
      }
      css = withoutVariables(css);
      fileName = `assets/antd-${createHash("sha256").update(css).digest("hex").slice(0, 10)}.css`;
      this.emitFile({ type: "asset", fileName, source: css });
    },
    transformIndexHtml: {
      order: "post",
      handler: () => [
        { tag: "link", attrs: { rel: "stylesheet", href: `/${fileName}` }, injectTo: "head-prepend" },
      ],
    },
  };
}

/** The sheet without its CSS variables' blocks (`.css-var-<id>{--ant-…}`): their class names come
 * from React ids of the build's drawing, which the browser's differ from, so the browser declares
 * the variables itself and these would never apply. */
export function withoutVariables(css: string): string {
  let out = "";
  let depth = 0;
  let start = 0;
  for (let i = 0; i < css.length; i++) {
    if (css[i] === "{") depth++;
    else if (css[i] === "}" && --depth === 0) {
      const rule = css.slice(start, i + 1);
      if (!rule.trimStart().startsWith(".css-var-")) out += rule;
      start = i + 1;
    }
  }
  return out + css.slice(start);
}
