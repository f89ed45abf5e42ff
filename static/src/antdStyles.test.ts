import { describe, expect, it } from "vitest";
import { withoutVariables } from "../antdStyles.ts";

describe("the build's antd style sheet", () => {
  it("drops the CSS variables' blocks and keeps every other rule as it is", () => {
    const sheet =
      ".css-var-_R_0_{--ant-color-primary:#1961d8;}" +
      ":where(.css-1y106cm).ant-btn{color:var(--ant-color-primary);}" +
      "@media (min-width: 576px){.ant-col-sm-1{flex:0 0 4%;}}" +
      ".css-var-_R_15f_.ant-menu{--ant-menu-item-height:40px;}" +
      '.data-ant-cssinjs-cache-path{content:"css-1y106cm|Button-Button|ant-btn|anticon:abc";}';
    expect(withoutVariables(sheet)).toBe(
      ":where(.css-1y106cm).ant-btn{color:var(--ant-color-primary);}" +
        "@media (min-width: 576px){.ant-col-sm-1{flex:0 0 4%;}}" +
        '.data-ant-cssinjs-cache-path{content:"css-1y106cm|Button-Button|ant-btn|anticon:abc";}',
    );
  });
});
