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
import { THEME } from "./theme";

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
