import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "./api";
import { App as AntApp, ConfigProvider } from "antd";
import "./print.css";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { Routes } from "./Routes";
import { useLang } from "./i18n";
import { SessionProvider } from "./session";

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      // a refusal (4xx) says the same the second time: only a failure or a lost answer is retried
      retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status < 500),
    },
  },
});

// the brand blue and the secondary greys darkened to meet WCAG AA contrast (4.5:1) on the page's
// grey background as well as on white
// WCAG AA contrast (4.5:1 on white) in every state: the hover and pressed blues are darker than
// the primary, not lighter as antd would derive them (a hovered button's text was 3.7:1)
const THEME = {
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

function Themed() {
  const { lang } = useLang();
  dayjs.locale(lang === "en" ? "en" : "zh-cn"); // date pickers: weekday and month names
  return (
    <ConfigProvider locale={lang === "en" ? enUS : zhCN} theme={THEME}>
      <AntApp>
        <SessionProvider>
          <Routes />
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <BrowserRouter>
        <Themed />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
