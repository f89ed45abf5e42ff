import { Spin } from "antd";
import { Navigate, Route, Routes as Switch, useLocation } from "react-router-dom";
import { Shell } from "./Shell";
import { useSession } from "./session";
import { Admin } from "./pages/Admin";
import { Dashboard } from "./pages/Dashboard";
import { Inbox } from "./pages/Inbox";
import { Launcher } from "./pages/Launcher";
import { Login } from "./pages/Login";
import { RecordDetail } from "./pages/RecordDetail";
import { RecordEdit } from "./pages/RecordEdit";
import { RecordList } from "./pages/RecordList";
import { TaskPage } from "./pages/TaskPage";

export function Routes() {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return <Spin fullscreen />;
  if (!me && location.pathname !== "/login") {
    return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  }
  return (
    <Switch>
      <Route path="/login" element={<Login />} />
      <Route element={<Shell />}>
        <Route path="/" element={<Launcher />} />
        <Route path="/inbox" element={<Inbox />} />
        <Route path="/admin" element={me?.is_admin ? <Admin /> : <Navigate to="/" replace />} />
        <Route path="/tasks/:taskId" element={<TaskPage />} />
        <Route path="/apps/:app/records/:form" element={<RecordList />} />
        <Route path="/apps/:app/records/:form/new" element={<RecordEdit />} />
        <Route path="/apps/:app/records/:form/:recordId" element={<RecordDetail />} />
        <Route path="/apps/:app/records/:form/:recordId/edit" element={<RecordEdit />} />
        <Route path="/apps/:app/dashboards/:key" element={<Dashboard />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Switch>
  );
}
