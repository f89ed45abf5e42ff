// Who may design what (the runtime's menu asks too: this module stays tiny).
import type { Me } from "../api";

/** Whether the signed-in user may design ``app`` (any app when ``app`` is not given). */
export function canDesign(me: Me | null | undefined, app?: string): boolean {
  if (!me) return false;
  if (me.is_admin) return true;
  const apps = me.design_apps ?? [];
  return app === undefined ? apps.length > 0 : apps.includes(app);
}
