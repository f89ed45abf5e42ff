// The designers' routes, in their own chunk: nothing of them loads before /design is opened.
import { Route, Routes } from "react-router-dom";
import "./strings";
import { AppsPage } from "./AppsPage";
import { DefinitionPage } from "./DefinitionPage";
import { Workbench } from "./Workbench";

export default function DesignRoutes() {
  return (
    <Routes>
      <Route index element={<AppsPage />} />
      <Route path=":app" element={<Workbench />} />
      <Route path=":app/:kinds/:key" element={<DefinitionPage />} />
    </Routes>
  );
}
