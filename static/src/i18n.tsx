// UI strings in zh-CN (the default) and en; the choice is remembered in the browser.
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";

export type Lang = "zh-CN" | "en";

const STRINGS: Record<string, [string, string]> = {
  "app.title": ["七巧板", "Tangram"],
  "login.title": ["登录", "Sign in"],
  "login.username": ["用户名", "Username"],
  "login.password": ["密码", "Password"],
  "login.submit": ["登录", "Sign in"],
  "login.failed": ["用户名或密码不正确", "Wrong username or password"],
  "login.limited": ["尝试次数过多，请稍后再试", "Too many attempts: try again later"],
  "nav.apps": ["应用", "Apps"],
  "nav.inbox": ["待办", "Inbox"],
  "nav.logout": ["退出", "Sign out"],
  "nav.language": ["English", "中文"],
  "apps.empty": ["还没有可用的应用", "No apps yet"],
  "apps.forms": ["表单", "Forms"],
  "apps.dashboards": ["仪表盘", "Dashboards"],
  "records.new": ["新建", "New"],
  "records.empty": ["暂无记录", "No records"],
  "records.more": ["加载更多", "Load more"],
  "records.total": ["共 {n} 条", "{n} in all"],
  "records.filter": ["筛选", "Filter"],
  "records.reset": ["重置", "Reset"],
  "records.export": ["导出", "Export"],
  "records.views": ["视图", "Views"],
  "records.view_name": ["保存当前筛选为…", "Save these filters as…"],
  "record.save": ["保存", "Save"],
  "record.saved": ["已保存", "Saved"],
  "record.invalid": ["请检查标出的字段", "Please check the marked fields"],
  "record.conflict": ["记录已被他人修改", "Someone else changed this record"],
  "record.reload": ["重新加载", "Reload"],
  "record.edit": ["编辑", "Edit"],
  "record.timeline": ["时间线", "Timeline"],
  "record.flows": ["流程", "Flows"],
  "record.details": ["详情", "Details"],
  "inbox.todo": ["待办", "To do"],
  "inbox.done": ["已办", "Done"],
  "inbox.cc": ["抄送我", "CC'd to me"],
  "inbox.started": ["我发起的", "Started by me"],
  "inbox.empty": ["没有任务", "No tasks"],
  "task.submit": ["提交", "Submit"],
  "task.approve": ["同意", "Approve"],
  "task.reject": ["驳回", "Reject"],
  "task.transfer": ["转交", "Transfer"],
  "task.add_signer": ["加签", "Add signer"],
  "task.comment": ["评论", "Comment"],
  "task.withdraw": ["撤回", "Withdraw"],
  "task.opinion": ["意见", "Opinion"],
  "task.target": ["退回到", "Return to"],
  "task.user": ["用户 ID", "User id"],
  "task.done": ["已处理", "Done"],
  "task.taken": ["该任务已被处理", "This task was already handled"],
  "dashboard.period": ["期间", "Period"],
  "dashboard.previous": ["上期", "Previous"],
  "dashboard.drill": ["明细", "Records"],
  "dashboard.error": ["无法显示", "Cannot show"],
  "nav.admin": ["管理", "Admin"],
  "admin.users": ["用户", "Users"],
  "admin.groups": ["组织", "Groups"],
  "admin.roles": ["角色", "Roles"],
  "admin.packages": ["应用包", "App packages"],
  "admin.user.new": ["新建用户", "New user"],
  "admin.user.name": ["名称", "Name"],
  "admin.user.active": ["启用", "Active"],
  "admin.group.manager": ["负责人", "Manager"],
  "admin.group.members": ["成员", "Members"],
  "admin.group.add": ["添加成员", "Add a member"],
  "admin.remove": ["移除", "Remove"],
  "admin.group.new": ["新建组织", "New group"],
  "admin.group.parent": ["上级", "Parent"],
  "admin.role.new": ["新建角色", "New role"],
  "admin.grant.add": ["添加授权", "Add grant"],
  "admin.actions": ["操作", "Actions"],
  "admin.scope": ["范围", "Scope"],
  "admin.package.import": ["导入应用包", "Import a package"],
  "admin.package.choose": ["选择 zip", "Choose a zip"],
  "admin.package.check": ["检查", "Check"],
  "admin.package.confirm": ["确认导入", "Import"],
  "admin.package.dry": ["仅检查，未写入", "checked only, nothing written"],
  "admin.package.installed": ["已导入", "Imported"],
  "admin.package.export": ["导出", "Export"],
  "admin.package.rollback": ["回滚元数据", "Roll back metadata"],
  "common.error": ["出错了", "Something went wrong"],
  "common.loading": ["加载中…", "Loading…"],
  "common.back": ["返回", "Back"],
  "common.cancel": ["取消", "Cancel"],
  "common.ok": ["确定", "OK"],
};

interface LangContext {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: string, values?: Record<string, string | number>) => string;
}

const Context = createContext<LangContext | null>(null);

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(
    (localStorage.getItem("tangram.lang") as Lang | null) ?? "zh-CN",
  );
  const value = useMemo<LangContext>(
    () => ({
      lang,
      setLang: (next) => {
        localStorage.setItem("tangram.lang", next);
        document.documentElement.lang = next;
        setLangState(next);
      },
      t: (key, values) => {
        const pair = STRINGS[key];
        let text = pair ? pair[lang === "en" ? 1 : 0] : key;
        for (const [name, v] of Object.entries(values ?? {})) text = text.replace(`{${name}}`, String(v));
        return text;
      },
    }),
    [lang],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useLang(): LangContext {
  const value = useContext(Context);
  if (!value) throw new Error("useLang outside LangProvider");
  return value;
}
