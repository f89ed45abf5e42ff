// Where a page of an app sits, read from its address (the app frame's breadcrumb and menu).

/** Where a path under ``/apps/{app}/`` points: a form's list, one of its records (or a new one),
 * a record's editor, or a dashboard. */
export function placeOf(app: string, pathname: string): { kind: string; key: string; record?: string; edit: boolean } {
  const [kind = "", key = "", record, action] = pathname.slice(`/apps/${app}/`.length).split("/");
  return { kind, key, record: record || undefined, edit: action === "edit" };
}
