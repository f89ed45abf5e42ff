// The public pages' words (an intake form, a record's status page), in zh-CN and English: they load
// with the pages' own chunk.
import { addStrings } from "../../i18n";

export const PUBLIC_STRINGS: Record<string, [string, string]> = {
  "public.language": ["语言", "Language"],
  "public.powered": ["本页面无需登录", "No sign-in needed on this page"],
  "public.not_found": ["链接不存在或已失效", "This link does not exist or has expired"],
  "public.not_found.detail": [
    "请检查链接是否完整；如果问题已经处理完毕或链接已关闭，请联系我们的客服。",
    "Check that the link is complete; if it was turned off, please contact our service team.",
  ],
  "public.failed": ["页面暂时无法打开，请稍后再试", "The page cannot be opened right now; try again later"],
  "public.retry": ["重试", "Try again"],
  "intake.submit": ["提交", "Submit"],
  "intake.fix": ["请按提示修改后再提交", "Please correct what is marked and submit again"],
  "intake.limited": ["提交太频繁", "Too many submissions"],
  "intake.done": ["提交成功", "Submitted"],
  "intake.done.number": ["您的编号：{number}", "Your number: {number}"],
  "intake.done.keep": ["请保存下面的专属链接，随时查看处理进度并补充信息：", "Keep the private link below to follow the progress and add information at any time:"],
  "intake.done.private": [
    "这是您的专属链接，持有链接的人都能查看和回复，请勿转发给他人。",
    "This link is private: whoever has it can read and reply, so do not pass it on.",
  ],
  "intake.done.copy": ["复制链接", "Copy the link"],
  "intake.done.copied": ["已复制", "Copied"],
  "intake.done.open": ["查看进度", "Follow the progress"],
  "intake.done.again": ["再提交一份", "Submit another"],
  "status.state": ["当前状态", "Status"],
  "status.registered": ["登记时间", "Registered"],
  "status.now": ["当前步骤", "Now at"],
  "status.details": ["详细信息", "Details"],
  "status.timeline": ["处理进度", "Progress"],
  "status.empty": ["—", "—"],
  "status.reply": ["补充说明或回复", "Add information or reply"],
  "status.reply.placeholder": ["在这里写下您想补充的情况", "Write what you want to add here"],
  "status.reply.hint": ["最多 {limit} 字；可附上图片或文件", "At most {limit} characters; you may attach pictures or files"],
  "status.reply.too_long": ["最多 {limit} 字（现在 {length} 字）", "At most {limit} characters (now {length})"],
  "status.reply.attach": ["添加附件", "Attach a file"],
  "status.reply.send": ["发送", "Send"],
  "status.reply.sent": ["已发送，我们会尽快处理", "Sent: we will get back to you soon"],
  "status.kind.created": ["登记", "Registered"],
  "status.kind.changed": ["状态更新", "Status"],
  "status.kind.step": ["处理进展", "Progress"],
  "status.kind.reply": ["客服回复", "Service reply"],
  "status.kind.customer_reply": ["您的回复", "Your reply"],
  "status.private": ["此页面仅持有专属链接的人可见", "Only people with the private link see this page"],
};

addStrings(PUBLIC_STRINGS);
