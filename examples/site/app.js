// Reload the score every 5 seconds, as the scoreboard's readers did by hand.
setInterval(() => {
  fetch('score.json').then(r => r.json()).then(s => {
    document.title = `${s.east} - ${s.west} | c10k demo`;
  }).catch(() => {});
}, 5000);
