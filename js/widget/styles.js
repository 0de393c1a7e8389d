// The widget's stylesheet (scoped under .fio-root). Adopted as a constructed stylesheet, which a
// strict Content-Security-Policy allows (no inline <style>, no style attributes).
//
// Theming: a page sets these custom properties (e.g. on :root) and the widget follows:
//   --fio-accent      buttons, progress, focus (default #3454d1)
//   --fio-accent-fg   text on accent (default #fff)
//   --fio-bg          card background (default #fff; #1b1f2e in dark mode)
//   --fio-fg          text (default #15192a; #e8eaf2 in dark mode)
//   --fio-muted       secondary text (default #556; #a3a9bf in dark mode)
//   --fio-overlay     the backdrop (default rgba(15,18,28,.62))
//   --fio-danger      errors (default #c62828)   --fio-success  success (default #2e9d5b)
//   --fio-radius      card radius (default 16px) --fio-font     font family (default system-ui…)
// Dark mode follows prefers-color-scheme; below 520 px wide the card fills the screen.
export const THEME_PROPERTIES = Object.freeze([
  "--fio-accent", "--fio-accent-fg", "--fio-bg", "--fio-fg", "--fio-muted", "--fio-overlay",
  "--fio-danger", "--fio-success", "--fio-radius", "--fio-font",
]);

export const CSS = `
.fio-root{--_accent:var(--fio-accent,#3454d1);--_accent-fg:var(--fio-accent-fg,#fff);--_bg:var(--fio-bg,#fff);--_fg:var(--fio-fg,#15192a);--_muted:var(--fio-muted,#556);--_line:color-mix(in srgb,var(--_fg) 18%,var(--_bg));--_soft:color-mix(in srgb,var(--_fg) 7%,var(--_bg));--_danger:var(--fio-danger,#c62828);--_success:var(--fio-success,#2e9d5b)}
@media (prefers-color-scheme:dark){.fio-root{--_bg:var(--fio-bg,#1b1f2e);--_fg:var(--fio-fg,#e8eaf2);--_muted:var(--fio-muted,#a3a9bf)}}
.fio-root{position:fixed;inset:0;z-index:2147483000;display:flex;align-items:center;justify-content:center;background:var(--fio-overlay,rgba(15,18,28,.62));font:15px/1.45 var(--fio-font,system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic","Noto Sans JP",sans-serif);color:var(--_fg)}
.fio-root *{box-sizing:border-box}
.fio-card{position:relative;width:min(400px,94vw);max-height:96vh;overflow:auto;background:var(--_bg);border-radius:var(--fio-radius,16px);box-shadow:0 20px 60px rgba(0,0,0,.35);padding:20px 20px 14px}
.fio-head{display:flex;align-items:center;gap:8px;margin:0 0 12px}
.fio-title{flex:1;font-size:18px;font-weight:650;margin:0}
.fio-close{border:0;background:transparent;font-size:22px;line-height:1;width:34px;height:34px;border-radius:50%;cursor:pointer;color:var(--_muted)}
.fio-close:hover,.fio-close:focus-visible{background:var(--_soft);outline:none}
.fio-screen[hidden]{display:none}
.fio-text{margin:0 0 12px;color:var(--_fg)}
.fio-tips{margin:0 0 14px;padding-inline-start:20px;color:var(--_fg)}
.fio-btn{display:inline-flex;justify-content:center;align-items:center;min-height:42px;padding:0 18px;border-radius:10px;border:1px solid transparent;font:inherit;font-weight:600;cursor:pointer}
.fio-btn:focus-visible{outline:3px solid color-mix(in srgb,var(--_accent) 50%,transparent);outline-offset:2px}
.fio-primary{background:var(--_accent);color:var(--_accent-fg)}.fio-primary:hover{background:color-mix(in srgb,var(--_accent) 82%,#000)}
.fio-secondary{background:var(--_bg);color:var(--_accent);border-color:var(--_line)}
.fio-row{display:flex;gap:10px;justify-content:flex-end;flex-wrap:wrap}
.fio-stage{position:relative;width:100%;aspect-ratio:4/3;background:#0d1020;border-radius:12px;overflow:hidden}
.fio-video{width:100%;height:100%;object-fit:cover;transform:scaleX(-1)}
.fio-guide{position:absolute;left:50%;top:50%;width:52%;height:78%;transform:translate(-50%,-50%);border-radius:50%;border:3px dashed rgba(255,255,255,.85);box-shadow:0 0 0 999px rgba(8,10,20,.45);transition:border-color .2s}
.fio-root[data-fio-state=ok] .fio-guide{border-style:solid;border-color:#3ddc84}
/* Active-liveness prompts: an animated cue on the oval. The preview is mirrored, so the user's own
   left is the screen's left: arrows point where the face should move on screen. */
.fio-root[data-fio-action] .fio-guide{border-style:solid;border-color:#ffd24a}
.fio-root[data-fio-action] .fio-guide::after{position:absolute;left:50%;top:50%;transform:translate(-50%,-50%);font-size:64px;line-height:1;color:#ffd24a;text-shadow:0 2px 6px rgba(0,0,0,.6)}
.fio-root[data-fio-action=turnLeft] .fio-guide::after{content:"\\2190";animation:fio-left 1.2s ease-in-out infinite}
.fio-root[data-fio-action=turnRight] .fio-guide::after{content:"\\2192";animation:fio-right 1.2s ease-in-out infinite}
.fio-root[data-fio-action=lookUp] .fio-guide::after{content:"\\2191";animation:fio-up 1.2s ease-in-out infinite}
.fio-root[data-fio-action=comeCloser] .fio-guide{animation:fio-closer 1.2s ease-in-out infinite}
.fio-root[data-fio-action=blink] .fio-guide::after{content:"\\25C9  \\25C9";font-size:40px;animation:fio-blink 1.2s steps(1) infinite}
@keyframes fio-left{50%{transform:translate(-120%,-50%)}}
@keyframes fio-right{50%{transform:translate(20%,-50%)}}
@keyframes fio-up{50%{transform:translate(-50%,-120%)}}
@keyframes fio-closer{50%{width:66%;height:92%}}
@keyframes fio-blink{60%{opacity:.15}}
@media (prefers-reduced-motion:reduce){.fio-root[data-fio-action] .fio-guide,.fio-root[data-fio-action] .fio-guide::after{animation:none}}
.fio-guidance{min-height:1.6em;margin:10px 0 8px;text-align:center;font-weight:600}
.fio-progress{height:6px;border-radius:3px;background:var(--_soft);overflow:hidden}
.fio-gap{margin-bottom:12px}
.fio-progress>div{height:100%;width:0;background:var(--_accent);transition:width .25s}
.fio-field{display:block;margin:0 0 10px}
.fio-field span{display:block;font-size:13px;color:var(--_muted);margin-bottom:4px}
.fio-pin{width:100%;height:46px;font:inherit;font-size:22px;letter-spacing:.35em;text-align:center;border:1px solid var(--_line);border-radius:10px;background:var(--_bg);color:var(--_fg)}
.fio-pin:focus{outline:3px solid color-mix(in srgb,var(--_accent) 50%,transparent);border-color:var(--_accent)}
.fio-pin-error{min-height:1.4em;color:var(--_danger);font-size:14px;margin:0 0 10px}
.fio-result{text-align:center;padding:18px 0 8px}
.fio-icon{font-size:46px;line-height:1}
.fio-success .fio-icon{color:var(--_success)}.fio-error .fio-icon{color:var(--_danger)}
.fio-spinner{width:34px;height:34px;margin:10px auto;border:4px solid var(--_soft);border-top-color:var(--_accent);border-radius:50%;animation:fio-spin 1s linear infinite}
@keyframes fio-spin{to{transform:rotate(360deg)}}
.fio-foot{margin-top:12px;text-align:center;font-size:12px;color:var(--_muted)}
.fio-link{color:var(--_accent)}
.fio-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){.fio-spinner{animation:none}.fio-progress>div{transition:none}}
@media (max-width:520px){.fio-root{align-items:stretch}.fio-card{width:100vw;max-height:none;min-height:100%;border-radius:0;box-shadow:none;padding:16px 16px 12px}}
`;
