// The widget's stylesheet (scoped under .fio-root; injected once per document).
export const CSS = `
.fio-root{position:fixed;inset:0;z-index:2147483000;display:flex;align-items:center;justify-content:center;background:rgba(15,18,28,.62);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic","Noto Sans JP",sans-serif;color:#15192a}
.fio-root *{box-sizing:border-box}
.fio-card{position:relative;width:min(400px,94vw);max-height:96vh;overflow:auto;background:#fff;border-radius:16px;box-shadow:0 20px 60px rgba(0,0,0,.35);padding:20px 20px 14px}
.fio-head{display:flex;align-items:center;gap:8px;margin:0 0 12px}
.fio-title{flex:1;font-size:18px;font-weight:650;margin:0}
.fio-close{border:0;background:transparent;font-size:22px;line-height:1;width:34px;height:34px;border-radius:50%;cursor:pointer;color:#556}
.fio-close:hover,.fio-close:focus-visible{background:#eef0f6;outline:none}
.fio-screen[hidden]{display:none}
.fio-text{margin:0 0 12px;color:#333a4d}
.fio-tips{margin:0 0 14px;padding-inline-start:20px;color:#333a4d}
.fio-btn{display:inline-flex;justify-content:center;align-items:center;min-height:42px;padding:0 18px;border-radius:10px;border:1px solid transparent;font:inherit;font-weight:600;cursor:pointer}
.fio-btn:focus-visible{outline:3px solid #9db4ff;outline-offset:2px}
.fio-primary{background:#3454d1;color:#fff}.fio-primary:hover{background:#2942a8}
.fio-secondary{background:#fff;color:#3454d1;border-color:#c6cfee}
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
.fio-progress{height:6px;border-radius:3px;background:#e4e8f4;overflow:hidden}
.fio-progress>div{height:100%;width:0;background:#3454d1;transition:width .25s}
.fio-field{display:block;margin:0 0 10px}
.fio-field span{display:block;font-size:13px;color:#556;margin-bottom:4px}
.fio-pin{width:100%;height:46px;font:inherit;font-size:22px;letter-spacing:.35em;text-align:center;border:1px solid #c6cfee;border-radius:10px}
.fio-pin:focus{outline:3px solid #9db4ff;border-color:#3454d1}
.fio-pin-error{min-height:1.4em;color:#c62828;font-size:14px;margin:0 0 10px}
.fio-result{text-align:center;padding:18px 0 8px}
.fio-icon{font-size:46px;line-height:1}
.fio-success .fio-icon{color:#2e9d5b}.fio-error .fio-icon{color:#c62828}
.fio-spinner{width:34px;height:34px;margin:10px auto;border:4px solid #e4e8f4;border-top-color:#3454d1;border-radius:50%;animation:fio-spin 1s linear infinite}
@keyframes fio-spin{to{transform:rotate(360deg)}}
.fio-foot{margin-top:12px;text-align:center;font-size:12px;color:#8890a6}
.fio-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){.fio-spinner{animation:none}.fio-progress>div{transition:none}}
`;
