// What a report or KPI shows, drawn: ECharts charts, tables for tables, pivots and before/after
// widgets, KPI cards — the runtime's dashboards and the designers' previews draw the same.
import { ArrowDownOutlined, ArrowUpOutlined } from "@ant-design/icons";
import { Button, Statistic, Table, Typography } from "antd";
import { echarts, type SeriesOption } from "./echarts";
import { useEffect, useRef, type CSSProperties, type KeyboardEvent } from "react";
import { useLang } from "./i18n";

type Labels = Record<string, Record<string, Record<string, string>>>;

/** Rows with dimension values replaced by their names (options, users, groups) in ``lang``. */
export function named(data: Record<string, unknown>, lang: string): unknown[][] {
  const labels = (data.labels as Labels | undefined) ?? {};
  const columns = data.columns as string[];
  return (data.rows as unknown[][]).map((row) =>
    row.map((value, i) => {
      const names = labels[columns[i]];
      const name = names?.[String(value)];
      return name ? (name[lang] ?? name["zh-CN"] ?? value) : value;
    }),
  );
}

export function Chart({ data, onPick, height = 260, label }: { data: Record<string, unknown>; onPick: (row: unknown[]) => void; height?: number | string; label?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const { lang } = useLang();
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current);
    const widget = data.widget as { type?: string };
    const columns = data.columns as string[];
    const raw = data.rows as unknown[][];
    const rows = named(data, lang);
    const split = (widget as { series?: string }).series;
    const seriesNames = split ? ((data.labels as Labels | undefined)?.[split] ?? {}) : {};
    const dimensions = columns.map((c, i) =>
      i > 0 && seriesNames[c] ? (seriesNames[c][lang] ?? seriesNames[c]["zh-CN"] ?? c) : c,
    );
    const type = widget.type ?? "bar";
    const dims = columns.length;
    const series: SeriesOption[] = [];
    if (type === "pie" || type === "donut") {
      series.push({ type: "pie", radius: type === "donut" ? ["40%", "70%"] : "70%", encode: { itemName: 0, value: 1 } });
    } else if (type === "pareto") {
      series.push({ type: "bar", encode: { x: 0, y: 1 } });
      series.push({ type: "line", yAxisIndex: 1, encode: { x: 0, y: dims - 1 } });
    } else {
      for (let i = 1; i < dims; i++) {
        series.push({
          type: type === "line" || type === "area" ? "line" : "bar",
          stack: type === "stacked" ? "all" : undefined,
          areaStyle: type === "area" ? {} : undefined,
          encode: { x: 0, y: i },
        });
      }
    }
    chart.setOption({
      tooltip: { trigger: type === "pie" || type === "donut" ? "item" : "axis" },
      legend: { type: "scroll", bottom: 0 },
      dataset: { dimensions, source: rows },
      grid: { left: 48, right: 48, top: 24, bottom: 48 },
      xAxis: type === "pie" || type === "donut" ? undefined : { type: "category" },
      yAxis: type === "pie" || type === "donut" ? undefined : type === "pareto" ? [{ type: "value" }, { type: "value", max: 100 }] : { type: "value" },
      series,
    });
    chart.on("click", (params) => onPick(raw[params.dataIndex] ?? []));
    // the chart follows its box: a window resized, a widget resized on a designer's grid
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(ref.current);
    return () => {
      observer.disconnect();
      chart.dispose();
    };
  }, [data, onPick, lang]);
  // the picture for eyes; its numbers are in the widget's data table (a switch on its card)
  return <div ref={ref} style={{ height, width: "100%" }} role={label ? "img" : undefined} aria-label={label} data-testid="chart" />;
}

/** Read by screen readers, not drawn. */
const HIDDEN: CSSProperties = { position: "absolute", width: 1, height: 1, overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap" };

/** A KPI card: the value, the previous period's and the change; the card itself is a button that
 * opens the records behind the value (by pointer or keyboard). */
export function Kpi({ data, onDrill, label }: { data: Record<string, unknown>; onDrill?: () => void; label?: string }) {
  const { t } = useLang();
  const change = data.change_pct as number | null;
  const better = data.better as boolean | null;
  const value = (data.value as number | null) ?? "—";
  return (
    <div
      {...(onDrill && {
        role: "button",
        tabIndex: 0,
        onClick: onDrill,
        onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            onDrill();
          }
        },
        style: { cursor: "pointer" },
      })}
      data-testid="kpi-card"
    >
      {onDrill && <span style={HIDDEN}>{t("dashboard.kpi.open", { label: label ?? "" })}</span>}
      <Statistic value={value} suffix={data.unit as string | undefined} precision={data.decimals as number} />
      <Typography.Text type="secondary">
        {t("dashboard.previous")}: {(data.previous as number | null) ?? "—"}{" "}
      </Typography.Text>
      {change !== null && change !== undefined && (
        <Typography.Text style={{ color: better === null ? undefined : better ? "#389e0d" : "#cf1322" }}>
          {change >= 0 ? <ArrowUpOutlined /> : <ArrowDownOutlined />} {Math.abs(change)}%
        </Typography.Text>
      )}
    </div>
  );
}


const TABULAR = ["table", "pivot", "before_after"];

/** Whether a report's widget is drawn as a table rather than a chart. */
export function isTabular(data: Record<string, unknown>): boolean {
  return TABULAR.includes(String((data.widget as { type?: string } | undefined)?.type));
}

/** A report's rows as a table; ``titles`` names the columns (a measure's label), the keys
 * otherwise. With ``onPick`` each row has a button opening the records behind it (a chart's
 * points, reachable by keyboard). */
export function DataTable({ data, titles, onPick }: { data: Record<string, unknown>; titles?: (column: string) => string; onPick?: (row: unknown[]) => void }) {
  const { lang, t } = useLang();
  const columns = data.columns as string[];
  const raw = data.rows as unknown[][];
  const shown = named(data, lang);
  return (
    <Table
      size="small"
      pagination={false}
      scroll={{ x: true }}
      rowKey={(row) => String(row.__index)}
      dataSource={shown.map((r, index) => ({ __index: index, ...Object.fromEntries(columns.map((c, i) => [c, r[i]])) }))}
      columns={[
        ...columns.map((c) => ({ key: c, dataIndex: c, title: titles?.(c) ?? c })),
        ...(onPick
          ? [
              {
                key: "__drill",
                title: t("dashboard.drill"),
                render: (_: unknown, row: Record<string, unknown>) => (
                  <Button size="small" type="link" onClick={() => onPick(raw[row.__index as number] ?? [])} aria-label={`${t("dashboard.drill")}：${String(shown[row.__index as number]?.[0] ?? "")}`}>
                    {t("dashboard.drill")}
                  </Button>
                ),
              },
            ]
          : []),
      ]}
    />
  );
}
