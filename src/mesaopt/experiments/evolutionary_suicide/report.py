"""The ``report.html`` of an ``evolutionary-suicide`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Evolution as the base optimizer, with nothing but survival and mating: males carry a heritable ornament that "
    "females prefer (a male's mating weight is exp(beta o)) and that costs its bearer survival (exp(-c o^2)). In "
    "'cost_to_others' the ornament also harms every female (her fecundity × exp(-h ō), ō the males' mean "
    "ornament): the trait that wins mates is paid for by the population. Sexual selection pushes the ornament "
    "towards beta / 2c whatever it does to the population's growth, so below a fecundity threshold the population "
    "evolves itself to extinction (Kokko & Brooks 2003, 'Sexy to die for?'; the Irish elk story). Controls: "
    "'cost_to_bearer_only' moves the same harm onto the bearer's own survival (selection then counts it, and the "
    "ornament stays small); 'no_harm' lets the ornament evolve with no cost to others; 'no_mutation' keeps the "
    "harm but supplies no variation (the ornament cannot evolve). Intervals are 95 % Wilson intervals over "
    "populations."
)


def _fmt_share(value: float, ci) -> str:
    return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per treatment: extinct share [95 % CI] at each fecundity."""
    h = report["headline"]
    rows = [["treatment", *(f"b = {b:g}" for b in h["fecundities"])]]
    for treatment, shares in h["extinct_fraction"].items():
        cis = h["extinct_fraction_ci"][treatment]
        rows.append([treatment, *(_fmt_share(v, ci) for v, ci in zip(shares, cis))])
    return rows


def _extinction_png(report: dict) -> bytes:
    h = report["headline"]
    series = {t: (np.asarray(v), *np.asarray(h["extinct_fraction_ci"][t]).T) for t, v in h["extinct_fraction"].items()}
    fig = plot_curves(h["fecundities"], series, xlabel="fecundity b (offspring per female)", ylabel="share extinct",
                      title=f"Extinct within {h['generations']} generations ({h['n_runs']} populations per point)",
                      logx=True, vlines={"predicted threshold 2 exp(h beta / 2c)": h["threshold_fecundity"]})
    return figure_png_bytes(fig)


def _trajectory_png(report: dict, treatment: str, key: str, ylabel: str) -> bytes:
    traj = report["trajectories"]
    fecundities = report["headline"]["fecundities"]
    series = {f"b = {b:g}": [np.nan if v is None else v for v in cell[key]]
              for b, cell in zip(fecundities, traj["by_treatment"][treatment])}
    fig = plot_curves(traj["generation"], series, xlabel="generation", ylabel=ylabel, title=f"{treatment}")
    return figure_png_bytes(fig)


def _cells_table(report: dict) -> list[list[str]]:
    h = report["headline"]
    rows = [["treatment", "fecundity", "extinct [95 % CI]", "median generations to extinction",
             "survivors' final mean ornament"]]
    for treatment in h["extinct_fraction"]:
        for i, b in enumerate(h["fecundities"]):
            when = h["median_generations_to_extinction"][treatment][i]
            orn = h["final_ornament_survivors"][treatment][i]
            rows.append([treatment, f"{b:g}", _fmt_share(h["extinct_fraction"][treatment][i],
                                                         h["extinct_fraction_ci"][treatment][i]),
                         "-" if when is None else f"{when:g}", "-" if orn is None else f"{orn:.2f}"])
    return rows


def write_evolutionary_suicide_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t, cfg = report["headline"], report["timings"], report["config"]
    summary = [("populations", f"{h['n_runs']} per (treatment, fecundity), {h['generations']} generations"),
               ("model", f"beta {cfg['preference']}, c {cfg['viability_cost']}, h {cfg['harm']}, mutation sd "
                         f"{cfg['mutation_sd']}, K {cfg['carrying_capacity']:g}"),
               ("predicted threshold", f"b* = {h['threshold_fecundity']:.1f}"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"simulation {t['train_seconds']:.0f} s, "
                             f"{t['train_steps_per_second']:,} population-generations/s)")]
    images = [(f"{treatment}: {label}", _trajectory_png(report, treatment, key, label))
              for treatment in h["extinct_fraction"]
              for key, label in (("median_population", "median population size"),
                                 ("mean_ornament_alive", "mean male ornament (populations alive)"))]
    sections = [
        Section("Does sexual selection drive populations extinct?", EXPLANATION, table=summary_table(report)),
        Section("Extinction against fecundity", "One line per treatment; the dashed line is the fecundity below "
                "which the deterministic growth rate at the evolved ornament falls under 1.",
                images=[("extinction", _extinction_png(report))], table=_cells_table(report)),
        Section("Trajectories", "Median population size over all populations of a cell (0 once most died out), "
                "and the mean ornament of the males of the populations still alive.", images=images),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="evolutionary-suicide: sexy to die for",
                             summary_rows=summary, sections=sections)
