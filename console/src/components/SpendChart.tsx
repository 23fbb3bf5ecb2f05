import { useEffect, useRef } from "react";
import { Chart, CategoryScale, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from "chart.js";
import type { Series } from "../lib/commitment";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Filler);

/** Spend to date against the straight-line target (Chart.js, loaded only with this screen). */
export default function SpendChart({ series, currency, summary }: { series: Series; currency: string; summary: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const fmt = new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 0 });
    const chart = new Chart(canvas.current, {
      type: "line",
      data: {
        labels: series.labels,
        datasets: [
          { label: "Target (straight line)", data: series.target, borderColor: "#6b7280", borderDash: [6, 4], pointRadius: 0, fill: false },
          { label: "Spend to date", data: series.spend, borderColor: "#1d4f91", backgroundColor: "rgba(29,79,145,0.12)", fill: true, pointRadius: 3 },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => fmt.format(Number(v)) } } },
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt.format(Number(c.parsed.y))}` } } },
      },
    });
    return () => chart.destroy();
  }, [series, currency]);
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={summary} data-testid="spend-chart" />
    </div>
  );
}
