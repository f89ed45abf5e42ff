// Plain functions of the administration pages (unit-tested): what an edit changes, how a grant
// reads.

/** What changes between two id lists: the ids to add and those to take away. */
export function changes(before: number[], after: number[]): { added: number[]; removed: number[] } {
  return { added: after.filter((id) => !before.includes(id)), removed: before.filter((id) => !after.includes(id)) };
}

export interface Grant {
  app_key: string;
  form_key: string;
  actions: string[];
  scope: string;
}

/** A grant in words, with the names ``names`` gives: "售后服务 · 售后工单：查看、修改（全部）". */
export function grantText(
  grant: Grant,
  names: { app: (key: string) => string; form: (key: string) => string; action: (a: string) => string; scope: (s: string) => string },
): string {
  return `${names.app(grant.app_key)} · ${names.form(grant.form_key)}：${grant.actions.map(names.action).join("、")}（${names.scope(grant.scope)}）`;
}
