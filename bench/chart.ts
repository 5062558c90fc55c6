/**
 * The run's results as one SVG chart, drawn by Apache ECharts' server-side renderer (no browser, no DOM): requests/s
 * and p99 latency per target at each connection count, and each target's requests/s as a share of the floors, the
 * bare Fastify proxy (b) and nginx (c), taken within the same round as the tables do. It is written beside the
 * tables from the same samples, so the picture and the figures cannot disagree.
 */
import * as echarts from 'echarts';
import type { BarSeriesOption } from 'echarts';
import { aggregateRows, compare } from './aggregate.js';
import type { Sample } from './matrix.js';
import { isSkipped, type TargetId, type TargetStart } from './target.js';

/** What the chart is drawn from: the part of a report it reads. */
export interface ChartInput {
  readonly date: string;
  readonly commit: string;
  readonly targets: readonly TargetStart[];
  readonly samples: readonly Sample[];
}

const WIDTH = 1200;
/** Room on the right for the legends. */
const LEGEND = 330;
const PANEL_HEIGHT = 260;
const TOP = 70;
const GAP = 70;

/** One colour per target, the same in every panel (Okabe–Ito, readable by colour-blind readers). */
const COLOURS: Readonly<Record<TargetId, string>> = {
  a: '#999999',
  b: '#E69F00',
  c: '#56B4E9',
  d: '#009E73',
  e: '#0072B2',
  f: '#D55E00',
  g: '#CC79A7',
};

/** The floors each target's requests/s is shown against, when the run measured them. */
const FLOORS = [
  { id: 'b', name: '(b) bare Fastify' },
  { id: 'c', name: '(c) nginx' },
] as const;

export function renderChart(input: ChartInput): string {
  const rows = aggregateRows(input.samples);
  const connections = [...new Set(rows.map((r) => r.connections))].sort((x, y) => x - y);
  const measured = input.targets.filter((t) => !isSkipped(t) && rows.some((r) => r.id === t.id));
  const floors = FLOORS.filter((f) => rows.some((r) => r.id === f.id));
  const cats = connections.map((c) => `${c} connections`);
  const at = (id: TargetId, c: number) => rows.find((r) => r.id === id && r.connections === c);

  // Panel 3: x = target against floor; bars per connection count.
  const ratioTargets = measured.filter((t) => !floors.some((f) => f.id === t.id) && t.id !== 'a');
  const ratioCats = floors.flatMap((f) => ratioTargets.map((t) => `(${t.id}) / ${f.name}`));
  const panels = floors.length > 0 && ratioTargets.length > 0 ? 3 : 2;
  const height = TOP + panels * PANEL_HEIGHT + (panels - 1) * GAP + 40;
  const topOf = (i: number): number => TOP + i * (PANEL_HEIGHT + GAP);
  const grid = Array.from({ length: panels }, (_, i) => ({
    left: 80,
    right: LEGEND,
    top: topOf(i),
    height: PANEL_HEIGHT,
  }));
  const font = { fontFamily: 'sans-serif', fontSize: 12 };

  const series: BarSeriesOption[] = [];
  for (const t of measured) {
    const colour = COLOURS[t.id];
    series.push({
      name: t.label,
      type: 'bar',
      xAxisIndex: 0,
      yAxisIndex: 0,
      itemStyle: { color: colour },
      data: connections.map((c) => Math.round(at(t.id, c)?.rps ?? 0)),
    });
    series.push({
      name: t.label,
      type: 'bar',
      xAxisIndex: 1,
      yAxisIndex: 1,
      itemStyle: { color: colour },
      data: connections.map((c) => Number((at(t.id, c)?.p99Ms ?? 0).toFixed(2))),
    });
  }
  if (panels === 3) {
    connections.forEach((c, i) => {
      series.push({
        name: `${c} connections`,
        type: 'bar',
        xAxisIndex: 2,
        yAxisIndex: 2,
        itemStyle: { color: ['#bdbdbd', '#7f7f7f', '#3f3f3f', '#000000'][i % 4] },
        label: { show: true, position: 'top', fontSize: 9, formatter: '{c} %' },
        data: floors.flatMap((f) =>
          ratioTargets.map((t) => {
            const r = compare(input.samples, t.id, f.id).find((x) => x.connections === c);
            return r === undefined ? 0 : Math.round(r.rpsRatio * 100);
          }),
        ),
        ...(i === 0
          ? {
              markLine: {
                symbol: 'none',
                silent: true,
                lineStyle: { type: 'dashed', color: '#444' },
                label: { formatter: '{c} %', fontSize: 9 },
                data: [{ yAxis: 100 }],
              },
            }
          : {}),
      });
    });
  }

  const option: echarts.EChartsOption = {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: font,
    title: [
      {
        text: `vestibule benchmark, ${input.date}, commit ${input.commit}`,
        left: 'center',
        top: 4,
        textStyle: { fontSize: 15 },
      },
      { text: 'requests/s (median of the rounds)', left: 80, top: topOf(0) - 22, textStyle: { fontSize: 13 } },
      { text: 'p99 latency, ms', left: 80, top: topOf(1) - 22, textStyle: { fontSize: 13 } },
      ...(panels === 3
        ? [
            {
              text: 'requests/s as a share of the floors, same round (median of the rounds)',
              left: 80,
              top: topOf(2) - 22,
              textStyle: { fontSize: 13 },
            },
          ]
        : []),
    ],
    legend: [
      {
        data: measured.map((t) => t.label),
        orient: 'vertical',
        top: TOP,
        left: WIDTH - LEGEND + 20,
        width: LEGEND - 30,
        itemWidth: 14,
        textStyle: { fontSize: 11 },
      },
      ...(panels === 3
        ? [
            {
              data: cats,
              orient: 'vertical' as const,
              top: topOf(2),
              left: WIDTH - LEGEND + 20,
              width: LEGEND - 30,
              itemWidth: 14,
              textStyle: { fontSize: 11 },
            },
          ]
        : []),
    ],
    grid,
    xAxis: [
      { type: 'category', gridIndex: 0, data: cats },
      { type: 'category', gridIndex: 1, data: cats },
      ...(panels === 3
        ? [{ type: 'category' as const, gridIndex: 2, data: ratioCats, axisLabel: { interval: 0, fontSize: 9 } }]
        : []),
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'req/s', nameLocation: 'middle', nameGap: 60 },
      { type: 'log', gridIndex: 1, name: 'ms (log scale)', nameLocation: 'middle', nameGap: 45 },
      ...(panels === 3
        ? [{ type: 'value' as const, gridIndex: 2, name: '%', nameLocation: 'middle' as const, nameGap: 45 }]
        : []),
    ],
    series,
  };

  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
