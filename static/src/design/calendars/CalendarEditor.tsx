// The calendar editor: the time zone, working hours per weekday (several ranges make breaks), a
// year view where a click moves a day through working → holiday → adjusted working day, holidays
// pasted as a list, and a probe that asks the engine when something started at a given time with
// a target in working hours is due — and why.
import { CopyOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, DatePicker, Input, InputNumber, Row, Select, Space, Switch, Tooltip, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { label, type Body } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { TextI18n } from "../forms/editors";
import { addHolidays, copyDay, dayKind, timeOptions, isoDay, parseDates, rangeMinutes, toggleDay, WEEKDAYS, type CalendarBody, type DayKind, type Range, type Weekday } from "./model";
import "./strings";

const ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"];
const DAY_STYLE: Record<DayKind, { background: string; color: string }> = {
  working: { background: "#fff", color: "#262626" },
  off: { background: "#f5f5f5", color: "#595959" },
  holiday: { background: "#fff1f0", color: "#a8071a" },
  adjusted: { background: "#e6f4ff", color: "#003eb3" },
};

interface Probe {
  due: string;
  time_zone: string;
  segments: { start: string; end: string; minutes: number }[];
}

function WeekEditor({ cal, write }: { cal: CalendarBody; write: (c: CalendarBody) => void }) {
  const { t } = useLang();
  const setDay = (day: Weekday, hours: Range[]) => {
    const week = { ...(cal.week ?? {}) };
    if (hours.length) week[day] = hours;
    else delete week[day];
    write({ ...cal, week });
  };
  return (
    <Space direction="vertical" size={6} style={{ width: "100%" }} data-testid="calendar-week">
      {WEEKDAYS.map((day) => {
        const hours = cal.week?.[day] ?? [];
        return (
          <div key={day} style={{ display: "grid", gridTemplateColumns: "56px 1fr auto", gap: 8, alignItems: "center" }} data-testid={`calendar-week-${day}`}>
            <Typography.Text strong>{t(`design.calendar.day.${day}`)}</Typography.Text>
            <Space wrap size={4}>
              {hours.length === 0 && <Typography.Text type="secondary">{t("design.calendar.closed")}</Typography.Text>}
              {hours.map(([from, to], i) => (
                <Space.Compact key={i} size="small">
                  {([0, 1] as const).map((end) => (
                    <Select
                      key={end}
                      size="small"
                      showSearch
                      style={{ width: 82 }}
                      value={end ? to : from}
                      onChange={(time: string) => setDay(day, hours.map((h, j) => (j === i ? (end ? [h[0], time] : [time, h[1]]) : h)))}
                      options={timeOptions([from, to]).map((time) => ({ value: time, label: time }))}
                      aria-label={t(end ? "design.calendar.range_end" : "design.calendar.range_start", { day: t(`design.calendar.day.${day}`), n: i + 1 })}
                      data-testid={`calendar-${day}-${i}-${end ? "end" : "start"}`}
                    />
                  ))}
                  <Button size="small" icon={<DeleteOutlined />} onClick={() => setDay(day, hours.filter((_, j) => j !== i))} aria-label={t("design.calendar.remove_range")} />
                </Space.Compact>
              ))}
              <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => setDay(day, [...hours, hours.length ? ["13:00", "18:00"] : ["09:00", "18:00"]])} data-testid={`calendar-add-${day}`}>
                {hours.length ? t("design.calendar.add_range") : t("design.calendar.open")}
              </Button>
            </Space>
            <Space size={4}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t("design.calendar.hours", { n: Math.round((rangeMinutes(hours) / 60) * 10) / 10 })}
              </Typography.Text>
              {day === "mon" && (
                <Tooltip title={t("design.calendar.copy_weekdays")}>
                  <Button size="small" icon={<CopyOutlined />} onClick={() => write(copyDay(cal, "mon", ["tue", "wed", "thu", "fri"]))} aria-label={t("design.calendar.copy_weekdays")} data-testid="calendar-copy-weekdays" />
                </Tooltip>
              )}
            </Space>
          </div>
        );
      })}
    </Space>
  );
}

function YearView({ cal, write, year }: { cal: CalendarBody; write: (c: CalendarBody) => void; year: number }) {
  const { t } = useLang();
  return (
    <div style={{ display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(210px, 1fr))", gap: 12 }} data-testid="calendar-year">
      {Array.from({ length: 12 }, (_, m) => {
        const first = new Date(Date.UTC(year, m, 1)).getUTCDay();
        const lead = (first + 6) % 7; // Monday first
        const days = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
        return (
          <div key={m}>
            <Typography.Text strong>{t("design.calendar.month", { n: m + 1 })}</Typography.Text>
            <div style={{ display: "grid", gridTemplateColumns: "repeat(7, 1fr)", gap: 2, marginTop: 4 }}>
              {WEEKDAYS.map((w) => (
                <span key={w} style={{ fontSize: 11, color: "#595959", textAlign: "center" }} aria-hidden>
                  {t(`design.calendar.short.${w}`)}
                </span>
              ))}
              {Array.from({ length: lead }, (_, i) => (
                <span key={`lead-${i}`} />
              ))}
              {Array.from({ length: days }, (_, d) => {
                const day = isoDay(year, m + 1, d + 1);
                const kind = dayKind(cal, day);
                return (
                  <button
                    key={day}
                    type="button"
                    onClick={() => write(toggleDay(cal, day))}
                    title={`${day} ${t(`design.calendar.kind.${kind}`)}`}
                    aria-label={`${d + 1}（${day} ${t(`design.calendar.kind.${kind}`)}）`}
                    data-testid={`calendar-day-${day}`}
                    data-kind={kind}
                    style={{ ...DAY_STYLE[kind], border: "1px solid #f0f0f0", borderRadius: 3, fontSize: 11, padding: "2px 0", cursor: "pointer" }}
                  >
                    {d + 1}
                  </button>
                );
              })}
            </div>
          </div>
        );
      })}
    </div>
  );
}

export function CalendarEditor({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const cal = body as unknown as CalendarBody;
  const write = (next: CalendarBody) => setBody(next as unknown as Body);
  const [year, setYear] = useState(() => new Date().getFullYear());
  const [pasted, setPasted] = useState("");
  const [rejected, setRejected] = useState<string[]>([]);
  const [start, setStart] = useState<Dayjs>(() => dayjs().hour(14).minute(0).second(0));
  const [hours, setHours] = useState(8);
  const [probe, setProbe] = useState<Probe | null>(null);
  const [probeError, setProbeError] = useState<string | null>(null);
  const ask = async () => {
    setProbeError(null);
    try {
      const answer = data(
        await client.POST("/api/v1/apps/{app}/calendars/{key}/probe", {
          params: { path: { app, key: cal.key } },
          body: { start: start.format("YYYY-MM-DDTHH:mm:ss"), minutes: hours * 60, body: cal as unknown as Record<string, unknown> },
        }),
      );
      setProbe(answer as unknown as Probe);
    } catch (e) {
      setProbe(null);
      setProbeError(problemText(e));
    }
  };
  const show = (iso: string) => dayjs(iso.slice(0, 19)).format("MM-DD（ddd）HH:mm");
  const mine = problems.filter((p) => p.path.startsWith("/week") || p.path.startsWith("/holidays") || p.path.startsWith("/exceptions") || p.path.startsWith("/time_zone"));
  return (
    <Row gutter={12} data-testid="calendar-designer">
      <Col xs={24} xl={16}>
        <Space direction="vertical" size="middle" style={{ width: "100%" }}>
          <Card size="small" title={t("design.calendar.basics")}>
            <Space wrap size="large" align="start">
              <div style={{ minWidth: 260 }}>
                <Typography.Text type="secondary">{t("design.calendar.name")}</Typography.Text>
                <TextI18n value={cal.label} onChange={(next) => next && write({ ...cal, label: next as CalendarBody["label"] })} testId="calendar-label" required />
              </div>
              <Space direction="vertical" size={2}>
                <Typography.Text type="secondary">{t("design.calendar.zone")}</Typography.Text>
                <Select
                  showSearch
                  style={{ width: 200 }}
                  value={cal.time_zone ?? "Asia/Shanghai"}
                  onChange={(zone: string) => write({ ...cal, time_zone: zone })}
                  options={[...new Set([cal.time_zone ?? "Asia/Shanghai", ...ZONES])].map((z) => ({ value: z, label: z }))}
                  aria-label={t("design.calendar.zone")}
                />
              </Space>
              <Space direction="vertical" size={2}>
                <Typography.Text type="secondary">{t("design.calendar.always")}</Typography.Text>
                <Switch checked={Boolean(cal.always_open)} onChange={(on) => write({ ...cal, always_open: on || undefined })} aria-label={t("design.calendar.always")} />
              </Space>
            </Space>
          </Card>
          {mine.length > 0 && <Alert type="error" showIcon message={mine.map((p) => `${p.path}: ${p.message}`).join("；")} />}
          {!cal.always_open && (
            <Card size="small" title={t("design.calendar.week")}>
              <WeekEditor cal={cal} write={write} />
            </Card>
          )}
          <Card
            size="small"
            title={t("design.calendar.year_title")}
            extra={
              <Space>
                <Button size="small" onClick={() => setYear(year - 1)} aria-label={t("design.calendar.prev_year")}>
                  ‹
                </Button>
                <Typography.Text strong data-testid="calendar-year-shown">
                  {year}
                </Typography.Text>
                <Button size="small" onClick={() => setYear(year + 1)} aria-label={t("design.calendar.next_year")}>
                  ›
                </Button>
              </Space>
            }
          >
            <Space direction="vertical" size="small" style={{ width: "100%" }}>
              <Space wrap size={12}>
                {(["working", "off", "holiday", "adjusted"] as DayKind[]).map((k) => (
                  <span key={k} style={{ fontSize: 12 }}>
                    <span style={{ ...DAY_STYLE[k], border: "1px solid #d9d9d9", display: "inline-block", width: 14, height: 14, verticalAlign: "middle", marginRight: 4 }} />
                    {t(`design.calendar.kind.${k}`)}
                  </span>
                ))}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("design.calendar.click_help")}
                </Typography.Text>
              </Space>
              <YearView cal={cal} write={write} year={year} />
              <Space.Compact style={{ width: "100%" }}>
                <Input.TextArea
                  autoSize={{ minRows: 1, maxRows: 4 }}
                  value={pasted}
                  onChange={(e) => setPasted(e.target.value)}
                  placeholder={t("design.calendar.paste")}
                  aria-label={t("design.calendar.paste")}
                  data-testid="calendar-paste"
                />
                <Button
                  onClick={() => {
                    const found = parseDates(pasted);
                    setRejected(found.rejected);
                    if (found.dates.length) write(addHolidays(cal, found.dates));
                    setPasted(found.rejected.join("\n"));
                  }}
                  disabled={!pasted.trim()}
                  data-testid="calendar-paste-add"
                >
                  {t("design.calendar.paste_add")}
                </Button>
              </Space.Compact>
              {rejected.length > 0 && <Typography.Text type="danger">{t("design.calendar.rejected", { list: rejected.join("、") })}</Typography.Text>}
            </Space>
          </Card>
        </Space>
      </Col>
      <Col xs={24} xl={8}>
        <Card size="small" title={t("design.calendar.probe")} data-testid="calendar-probe">
          <Space direction="vertical" size="small" style={{ width: "100%" }}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("design.calendar.probe_help")}
            </Typography.Text>
            <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" value={start} allowClear={false} onChange={(v) => v && setStart(v)} aria-label={t("design.calendar.probe_start")} data-testid="calendar-probe-start" />
            <Space>
              <InputNumber min={0.25} step={1} value={hours} onChange={(v) => setHours(v ?? 1)} aria-label={t("design.calendar.probe_hours")} data-testid="calendar-probe-hours" />
              <Typography.Text>{t("design.calendar.probe_hours")}</Typography.Text>
            </Space>
            <Button onClick={() => void ask()} data-testid="calendar-probe-run">
              {t("design.calendar.probe_run")}
            </Button>
            {probeError && <Alert type="error" showIcon message={probeError} />}
            {probe && (
              <div data-testid="calendar-probe-answer">
                <Typography.Paragraph strong style={{ marginBottom: 4 }}>
                  {t("design.calendar.probe_due", { start: start.format("MM-DD HH:mm"), n: hours, due: show(probe.due) })}
                </Typography.Paragraph>
                <Typography.Text type="secondary">{t("design.calendar.probe_because")}</Typography.Text>
                <ul style={{ margin: "4px 0 0", paddingLeft: 18 }}>
                  {probe.segments.map((s) => (
                    <li key={s.start}>
                      {show(s.start)} – {dayjs(s.end.slice(0, 19)).format("HH:mm")}（{t("design.calendar.hours", { n: Math.round((s.minutes / 60) * 100) / 100 })}）
                    </li>
                  ))}
                </ul>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {label({ "zh-CN": `时区 ${probe.time_zone}`, en: `Time zone ${probe.time_zone}` }, lang)}
                </Typography.Text>
              </div>
            )}
          </Space>
        </Card>
      </Col>
    </Row>
  );
}
