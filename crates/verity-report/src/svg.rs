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
    let positive: Vec<f64> = rows
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|x| *x > 0.0)
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    let (lo_exp, hi_exp) = if positive.is_empty() {
        (-1, 1)
    } else {
        let a = lo.log10().floor() as i32;
        let b = hi.log10().ceil() as i32;
        (a, b.max(a + 1))
    };
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
        let label = if e >= 0 {
            format!("{}", 10u64.pow(e as u32))
        } else {
            format!("{}", 10f64.powi(e))
        };
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
    fn charts_survive_empty_and_degenerate_data() {
        assert!(latency_boxes(&[]).ends_with("</svg>"));
        let one = latency_boxes(&[("x".into(), vec![0.0])]);
        assert!(!one.contains("NaN") && !one.contains("inf"), "{one}");
        let same = latency_boxes(&[("x".into(), vec![3.0, 3.0])]);
        assert!(!same.contains("NaN"), "{same}");
    }
}
