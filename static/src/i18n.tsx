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
  "records.view_share": ["共享给所有人", "Share with everyone"],
  "records.view_shared": ["共享视图", "Shared view"],
  "record.save": ["保存", "Save"],
  "record.saved": ["已保存", "Saved"],
  "record.invalid": ["请检查标出的字段", "Please check the marked fields"],
  "record.conflict": ["记录已被他人修改", "Someone else changed this record"],
  "record.reload": ["重新加载", "Reload"],
  "record.edit": ["编辑", "Edit"],
  "record.timeline": ["时间线", "Timeline"],
  "record.flows": ["流程", "Flows"],
  "record.history": ["流转记录", "History"],
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
  "task.user": ["选择人员", "Choose a person"],
  "task.pick_user": ["请先选择人员", "Choose a person first"],
  "task.return": ["退回修改", "Return for revision"],
  "task.delegate": ["委托", "Delegate"],
  "task.before": ["在我之前", "Before me"],
  "task.after": ["在我之后", "After me"],
  "task.urge": ["催办", "Urge"],
  "task.urged": ["已催办", "Reminder sent"],
  "task.withdrawn": ["已撤回", "Withdrawn"],
  "task.withdraw_confirm": ["撤回后流程将回到发起人，确定吗？", "The flow goes back to you. Withdraw?"],
  "task.status.open": ["待处理", "Open"],
  "task.status.done": ["已处理", "Done"],
  "task.status.cancelled": ["已取消", "Cancelled"],
  "flow.flow": ["流程", "Flow"],
  "audit.record.created": ["创建记录", "Record created"],
  "audit.record.updated": ["修改记录", "Record changed"],
  "audit.record.deleted": ["删除记录", "Record deleted"],
  "audit.record.restored": ["恢复记录", "Record restored"],
  "audit.record.commented": ["评论", "Comment"],
  "audit.rule.fired": ["规则执行", "Rule applied"],
  "audit.rule.failed": ["规则失败", "Rule failed"],
  "audit.flow.started": ["发起流程", "Flow started"],
  "audit.flow.submitted": ["提交", "Submitted"],
  "audit.flow.approved": ["同意", "Approved"],
  "audit.flow.rejected": ["驳回", "Rejected"],
  "audit.flow.returned": ["退回修改", "Returned"],
  "audit.flow.automation": ["流程自动处理", "Flow automation"],
  "audit.flow.withdrawn": ["撤回", "Withdrawn"],
  "audit.flow.urged": ["催办", "Urged"],
  "audit.flow.timer": ["定时", "Timer"],
  "audit.flow.timer_fired": ["定时到达", "Timer fired"],
  "audit.flow.transferred": ["转交", "Transferred"],
  "audit.flow.delegated": ["委托", "Delegated"],
  "audit.flow.commented": ["评论", "Comment"],
  "audit.flow.resolved": ["已处理", "Resolved"],
  "audit.flow.cancelled_case": ["取消流程", "Flow cancelled"],
  "audit.flow.cancelled": ["取消流程", "Flow cancelled"],
  "audit.flow.migrated": ["流程迁移", "Flow migrated"],
  "flow.holders": ["当前处理人", "Now with"],
  "flow.started": ["发起", "started"],
  "flow.completed": ["完成", "completed"],
  "flow.approved": ["同意", "approved"],
  "flow.rejected": ["驳回", "rejected"],
  "flow.submitted": ["提交", "submitted"],
  "flow.returned": ["退回修改", "returned"],
  "flow.resolved": ["已处理", "resolved"],
  "flow.transferred": ["转交", "transferred"],
  "flow.delegated": ["委托", "delegated"],
  "flow.signer_added_before": ["前加签", "signer added before"],
  "flow.signer_added_after": ["后加签", "signer added after"],
  "flow.commented": ["评论", "commented"],
  "flow.cc": ["抄送", "copied"],
  "flow.automation": ["自动处理", "automation"],
  "flow.joined": ["汇合", "joined"],
  "flow.resubmitted_to": ["重新提交给", "resubmitted to"],
  "flow.sent_back": ["退回", "sent back"],
  "flow.skipped": ["跳过", "skipped"],
  "flow.sub_process": ["子流程", "sub-process"],
  "flow.sub_process_done": ["子流程完成", "sub-process done"],
  "flow.task_cancelled": ["任务取消", "task cancelled"],
  "flow.timer_fired": ["定时到达", "timer fired"],
  "flow.urged": ["催办", "urged"],
  "flow.withdrawn": ["撤回", "withdrawn"],
  "flow.cancelled_case": ["流程取消", "cancelled"],
  "flow.terminated": ["终止", "terminated"],
  "flow.status.running": ["进行中", "running"],
  "flow.status.completed": ["已完成", "completed"],
  "flow.status.cancelled": ["已取消", "cancelled"],
  "flow.status.terminated": ["已终止", "terminated"],
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
  /** The UI string ``key`` (``fallback``, else the key itself, when there is none). */
  t: (key: string, values?: Record<string, string | number>, fallback?: string) => string;
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
      t: (key, values, fallback) => {
        const pair = STRINGS[key];
        let text = pair ? pair[lang === "en" ? 1 : 0] : (fallback ?? key);
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
