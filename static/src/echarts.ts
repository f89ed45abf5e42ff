// ECharts with only the parts the widgets draw (bar, line and pie charts on a dataset, with a
// grid, a tooltip and a scrolling legend, on canvas): the whole library is about three times
// the size, and every dashboard and report preview loads it.
import { BarChart, LineChart, PieChart, type BarSeriesOption, type LineSeriesOption, type PieSeriesOption } from "echarts/charts";
import { DatasetComponent, GridComponent, LegendScrollComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, PieChart, DatasetComponent, GridComponent, LegendScrollComponent, TooltipComponent, CanvasRenderer]);

export type SeriesOption = BarSeriesOption | LineSeriesOption | PieSeriesOption;
export { echarts };
