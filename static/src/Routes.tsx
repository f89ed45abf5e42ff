import { Spin } from "antd";
import { Navigate, Route, Routes as Switch, useLocation } from "react-router-dom";
import { Shell } from "./Shell";
import { AppFrame } from "./AppFrame";
import { useSession } from "./session";
import { lazy, Suspense } from "react";
import { Launcher } from "./pages/Launcher";
import { canDesign } from "./design/access";
import { ForbiddenPage, NotFoundPage, RouteBoundary } from "./Failure";
import { useLang } from "./i18n";
import { isPublicPath } from "./pages/public/model";

// Heavy pages load when first opened: charts (ECharts) and forms (rjsf, ajv) are their own chunks.
const Login = lazy(() => import("./pages/Login").then((m) => ({ default: m.Login })));
const Admin = lazy(() => import("./pages/Admin").then((m) => ({ default: m.Admin })));
const Dashboard = lazy(() => import("./pages/Dashboard").then((m) => ({ default: m.Dashboard })));
const Inbox = lazy(() => import("./pages/Inbox").then((m) => ({ default: m.Inbox })));
const RecordDetail = lazy(() => import("./pages/RecordDetail").then((m) => ({ default: m.RecordDetail })));
const RecordEdit = lazy(() => import("./pages/RecordEdit").then((m) => ({ default: m.RecordEdit })));
const RecordList = lazy(() => import("./pages/RecordList").then((m) => ({ default: m.RecordList })));
const Design = lazy(() => import("./design/DesignRoutes"));
const SearchPage = lazy(() => import("./search/SearchPage").then((m) => ({ default: m.SearchPage })));
const TaskPage = lazy(() => import("./pages/TaskPage").then((m) => ({ default: m.TaskPage })));
// public pages (no sign-in, no shell): a public intake link's form, a record's status page
const IntakePage = lazy(() => import("./pages/public/IntakePage").then((m) => ({ default: m.IntakePage })));
const StatusPage = lazy(() => import("./pages/public/StatusPage").then((m) => ({ default: m.StatusPage })));
const SurveyPage = lazy(() => import("./pages/public/SurveyPage").then((m) => ({ default: m.SurveyPage })));
const HelpCenterPage = lazy(() => import("./pages/public/HelpCenter").then((m) => ({ default: m.HelpCenterPage })));
const HelpArticlePage = lazy(() => import("./pages/public/HelpCenter").then((m) => ({ default: m.HelpArticlePage })));

export function Routes() {
  const { me, loading } = useSession();
  const { t } = useLang();
  const location = useLocation();
  if (isPublicPath(location.pathname)) {
    return (
      <RouteBoundary key={location.pathname}>
        <Suspense fallback={<Spin fullscreen />}>
          <Switch>
            <Route path="/intake/:token" element={<IntakePage />} />
            <Route path="/status/:token" element={<StatusPage />} />
            <Route path="/status/:token/survey" element={<SurveyPage />} />
            <Route path="/survey/:token" element={<SurveyPage />} />
            <Route path="/help/:app" element={<HelpCenterPage />} />
            <Route path="/help/:app/:form/:id" element={<HelpArticlePage />} />
          </Switch>
        </Suspense>
      </RouteBoundary>
    );
  }
  if (loading) return <Spin fullscreen />;
  if (!me && location.pathname !== "/login") {
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return (
    <RouteBoundary key={location.pathname}>
    <Suspense fallback={<Spin />}>
    <Switch>
      <Route path="/login" element={<Login />} />
      <Route element={<Shell />}>
        <Route path="/" element={<Launcher />} />
        <Route path="/inbox" element={<Inbox />} />
        <Route path="/admin" element={me?.is_admin ? <Admin /> : <ForbiddenPage why={t("failure.admin_only")} />} />
        <Route path="/tasks/:taskId" element={<TaskPage />} />
        <Route path="/design/*" element={me && canDesign(me) ? <Design /> : <ForbiddenPage why={t("failure.design_only")} />} />
        <Route path="/apps/:app" element={<AppFrame />}>
          <Route index element={<Navigate to="/" replace />} />
          <Route path="records/:form" element={<RecordList />} />
          <Route path="records/:form/new" element={<RecordEdit />} />
          <Route path="records/:form/:recordId" element={<RecordDetail />} />
          <Route path="records/:form/:recordId/edit" element={<RecordEdit />} />
          <Route path="dashboards/:key" element={<Dashboard />} />
          <Route path="search" element={<SearchPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Switch>
    </Suspense>
    </RouteBoundary>
  );
}
