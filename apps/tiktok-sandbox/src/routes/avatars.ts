import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../http.js';
import { allProfiles, findProfile } from '../users.js';
import { escapeHtml, layout } from '../views/html.js';

function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .map((w) => [...w.replace(/[^\p{L}\p{N}]/gu, '')][0] ?? '')
    .filter((c) => c !== '');
  return letters.slice(0, 2).join('').toUpperCase() || '?';
}

export function avatarSvg(name: string, color: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100" role="img" aria-label="${escapeHtml(name)}">
<circle cx="50" cy="50" r="50" fill="${escapeHtml(color)}"/>
<text x="50" y="50" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" font-size="40" font-weight="600" fill="#fff">${escapeHtml(initials(name))}</text>
</svg>
`;
}

/** Avatars and profile pages served by the sandbox itself, so nothing outside it is ever loaded. */
export function registerAvatarRoutes(app: FastifyInstance, _ctx: SandboxContext): void {
  app.get<{ Params: { file: string } }>('/avatars/:file', async (req, reply) => {
    const openId = req.params.file.replace(/\.svg$/, '');
    const profile = req.params.file.endsWith('.svg') ? findProfile(openId) : undefined;
    if (!profile) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=3600')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(avatarSvg(profile.displayName, profile.color));
  });

  app.get<{ Params: { username: string } }>('/@:username', async (req, reply) => {
    const profile = allProfiles().find((p) => p.username === req.params.username);
    if (!profile) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.type('text/html; charset=utf-8').send(
      layout(
        `${profile.displayName} | TikTok`,
        `<h1>${escapeHtml(profile.displayName)}</h1>
<p class="muted">@${escapeHtml(profile.username)}</p>
<p><img src="${escapeHtml(profile.avatarUrl)}" alt="" width="100" height="100"></p>
<p>${escapeHtml(profile.bioDescription)}</p>`,
      ),
    );
  });
}
