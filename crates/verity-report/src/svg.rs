//! Small inline SVG charts for report.html. They are drawn here rather than with a plotting
//! library because the report must render offline with no scripts or fonts to fetch, and
//! two chart kinds do not justify a rendering stack.

use std::fmt::Write;

use verity_runner::stats::percentile;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 forbids (control characters other than tab and newlines).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The decades (powers of ten) a logarithmic ms axis spans to hold every positive value of
/// `rows`: at least one decade; 0.1–10 ms when there is no positive value.
fn log_decades(rows: &[(String, Vec<f64>)]) -> (i32, i32) {
    let positive = rows
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|x| *x > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if hi == 0.0 {
        return (-1, 1);
    }
    let a = lo.log10().floor() as i32;
    (a, (hi.log10().ceil() as i32).max(a + 1))
}

/// `10^e` as an axis label: `100`, `0.01`.
fn decade_label(e: i32) -> String {
    if e >= 0 {
        10u64.pow(e as u32).to_string()
    } else {
        10f64.powi(e).to_string()
    }
}

const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 480.0;
const ROW_H: f64 = 26.0;

/// Horizontal bars of percentages (0–100), one per label.
pub fn accuracy_bars(rows: &[(String, f64)]) -> String {
    let h = ROW_H * rows.len() as f64 + 40.0;
    let w = LABEL_W + PLOT_W + 70.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="accuracy per query type">"#
    );
    for (i, (label, pct)) in rows.iter().enumerate() {
        let y = 10.0 + ROW_H * i as f64;
        let bw = PLOT_W * pct.clamp(0.0, 100.0) / 100.0;
        let color = if *pct >= 100.0 { "#2e7d32" } else { "#c62828" };
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" class="lbl">{}</text><rect x="{LABEL_W}" y="{y}" width="{PLOT_W}" height="{}" fill="#eee"/><rect x="{LABEL_W}" y="{y}" width="{bw:.1}" height="{}" fill="{color}"/><text x="{}" y="{}" class="val">{pct:.2}%</text>"##,
            LABEL_W - 8.0,
            y + 15.0,
            escape(label),
            ROW_H - 8.0,
            ROW_H - 8.0,
            LABEL_W + PLOT_W + 6.0,
            y + 15.0,
        );
    }
    let axis_y = 10.0 + ROW_H * rows.len() as f64 + 14.0;
    for pct in [0, 50, 100] {
        let x = LABEL_W + PLOT_W * pct as f64 / 100.0;
        let _ = write!(
            s,
            r#"<text x="{x}" y="{axis_y}" text-anchor="middle" class="tick">{pct}%</text>"#
        );
    }
    s.push_str("</svg>");
    s
}

/// Latency distribution per label as box plots on a logarithmic axis: the box spans p25–p75,
/// the bar inside is the median, the whiskers reach p5 and p95, the dot is the maximum.
pub fn latency_boxes(rows: &[(String, Vec<f64>)]) -> String {
    let (lo_exp, hi_exp) = log_decades(rows);
    let x_of = |ms: f64| {
        let v = ms.max(10f64.powi(lo_exp)).log10();
        LABEL_W + PLOT_W * (v - lo_exp as f64) / (hi_exp - lo_exp) as f64
    };
    let h = ROW_H * rows.len() as f64 + 40.0;
    let w = LABEL_W + PLOT_W + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="latency per query type, milliseconds, logarithmic">"#
    );
    let bottom = 10.0 + ROW_H * rows.len() as f64;
    for e in lo_exp..=hi_exp {
        let x = x_of(10f64.powi(e));
        let label = decade_label(e);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="6" x2="{x:.1}" y2="{bottom}" class="grid"/><text x="{x:.1}" y="{}" text-anchor="middle" class="tick">{label} ms</text>"#,
            bottom + 16.0
        );
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = 10.0 + ROW_H * i as f64;
        let mid = y + (ROW_H - 8.0) / 2.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" class="lbl">{}</text>"#,
            LABEL_W - 8.0,
            y + 15.0,
            escape(label)
        );
        if values.is_empty() {
            continue;
        }
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        let p = |q| x_of(percentile(&v, q));
        let (p5, p25, p50, p75, p95) = (p(5.0), p(25.0), p(50.0), p(75.0), p(95.0));
        let max = x_of(*v.last().expect("non-empty"));
        let _ = write!(
            s,
            r#"<line x1="{p5:.1}" y1="{mid:.1}" x2="{p95:.1}" y2="{mid:.1}" class="whisker"/><rect x="{p25:.1}" y="{}" width="{:.1}" height="{}" class="box"/><line x1="{p50:.1}" y1="{}" x2="{p50:.1}" y2="{}" class="median"/><circle cx="{max:.1}" cy="{mid:.1}" r="2.5" class="max"/>"#,
            y + 2.0,
            (p75 - p25).max(1.0),
            ROW_H - 12.0,
            y + 2.0,
            y + ROW_H - 10.0,
        );
    }
    s.push_str("</svg>");
    s
}

const PALETTE: &[&str] = &[
    "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457",
    "#283593", "#558b2f",
];

/// Cumulative distribution of latencies per label, one line each, on a logarithmic ms axis
/// (x) against the share of queries answered within that time (y), with a legend.
pub fn latency_cdf(rows: &[(String, Vec<f64>)]) -> String {
    let (lo_exp, hi_exp) = log_decades(rows);
    let (left, top, w, h) = (60.0, 10.0, 520.0, 260.0);
    let x_of = |ms: f64| {
        let v = ms.max(10f64.powi(lo_exp)).log10();
        left + w * (v - lo_exp as f64) / (hi_exp - lo_exp) as f64
    };
    let y_of = |share: f64| top + h * (1.0 - share);
    let legend_h = 18.0 * rows.len() as f64;
    let total_w = left + w + 200.0;
    let total_h = (top + h + 40.0).max(top + legend_h + 10.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}" role="img" aria-label="latency distribution per query type">"#
    );
    for e in lo_exp..=hi_exp {
        let x = x_of(10f64.powi(e));
        let label = decade_label(e);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" class="grid"/><text x="{x:.1}" y="{}" text-anchor="middle" class="tick">{label} ms</text>"#,
            top + h,
            top + h + 16.0
        );
    }
    for share in [0.0, 0.5, 0.9, 1.0] {
        let y = y_of(share);
        let _ = write!(
            s,
            r#"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{:.0}%</text>"#,
            left + w,
            left - 6.0,
            y + 4.0,
            share * 100.0
        );
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        if !v.is_empty() {
            let n = v.len() as f64;
            let mut pts = format!("{:.1},{:.1}", x_of(v[0]), y_of(0.0));
            for (k, x) in v.iter().enumerate() {
                let _ = write!(
                    pts,
                    " {:.1},{:.1} {:.1},{:.1}",
                    x_of(*x),
                    y_of(k as f64 / n),
                    x_of(*x),
                    y_of((k + 1) as f64 / n)
                );
            }
            let _ = write!(
                s,
                r#"<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
            );
        }
        let ly = top + 18.0 * i as f64 + 10.0;
        let lx = left + w + 20.0;
        let _ = write!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}" class="lbl">{}</text>"#,
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            escape(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars of ratios (speed-ups) on a logarithmic axis with a line at 1×.
pub fn ratio_bars(rows: &[(String, f64)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let hi_exp = (max.log10().ceil() as i32).max(1);
    let x_of = |r: f64| LABEL_W + 200.0 + PLOT_W * (r.max(0.1).log10() + 1.0) / (hi_exp + 1) as f64;
    let h = ROW_H * rows.len() as f64 + 40.0;
    let label_w = LABEL_W + 200.0;
    let w = label_w + PLOT_W + 70.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="speed-up per query">"#
    );
    let bottom = 10.0 + ROW_H * rows.len() as f64;
    for e in -1..=hi_exp {
        let x = x_of(10f64.powi(e));
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="6" x2="{x:.1}" y2="{bottom}" class="grid"/><text x="{x:.1}" y="{}" text-anchor="middle" class="tick">{}×</text>"#,
            bottom + 16.0,
            10f64.powi(e)
        );
    }
    for (i, (label, ratio)) in rows.iter().enumerate() {
        let y = 10.0 + ROW_H * i as f64;
        let (x1, x2) = (x_of(1.0), x_of(*ratio));
        let (a, b) = if x2 >= x1 { (x1, x2) } else { (x2, x1) };
        let color = if *ratio >= 1.0 { "#2e7d32" } else { "#c62828" };
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" class="lbl">{}</text><rect x="{a:.1}" y="{y}" width="{:.1}" height="{}" fill="{color}"/><text x="{:.1}" y="{}" class="val">{ratio:.1}×</text>"#,
            label_w - 8.0,
            y + 15.0,
            escape(label),
            (b - a).max(1.0),
            ROW_H - 8.0,
            b + 4.0,
            y + 15.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&#39;\u{FFFD}"
        );
    }

    #[test]
    fn cdf_and_ratio_charts_survive_degenerate_data() {
        for svg in [
            latency_cdf(&[]),
            latency_cdf(&[("a".into(), vec![]), ("b".into(), vec![0.0, 5.0])]),
            ratio_bars(&[]),
            ratio_bars(&[("q".into(), 0.0), ("r".into(), 1e6)]),
        ] {
            assert!(
                svg.ends_with("</svg>") && !svg.contains("NaN") && !svg.contains("inf"),
                "{svg}"
            );
        }
    }

    #[test]
    fn charts_survive_empty_and_degenerate_data() {
        assert!(latency_boxes(&[]).ends_with("</svg>"));
        let one = latency_boxes(&[("x".into(), vec![0.0])]);
        assert!(!one.contains("NaN") && !one.contains("inf"), "{one}");
        let same = latency_boxes(&[("x".into(), vec![3.0, 3.0])]);
        assert!(!same.contains("NaN"), "{same}");
    }
}
