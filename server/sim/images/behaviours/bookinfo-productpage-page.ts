/** The HTML productpage renders: our own page carrying the facts of the real template. */

export interface Product {
  id: number;
  title: string;
  descriptionHtml: string;
}

export interface ReviewView {
  reviewer: string;
  text: string;
  rating?: { stars?: number; color?: string; error?: string };
}

export interface PageModel {
  user: string;
  product: Product;
  detailsOk: boolean;
  details: Record<string, unknown>;
  reviewsOk: boolean;
  reviews: { reviews?: ReviewView[]; podname?: string; clustername?: string; error?: string };
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STAR_PATH =
  'M10.788 3.21c.448-1.077 1.976-1.077 2.424 0l2.082 5.006 5.404.434c1.164.093 1.636 1.545.749 2.305l-4.117 3.527 1.257 5.273c.271 1.136-.964 2.033-1.96 1.425L12 18.354 7.373 21.18c-.996.608-2.231-.29-1.96-1.425l1.257-5.273-4.117-3.527c-.887-.76-.415-2.212.749-2.305l5.404-.434 2.082-5.005Z';

function stars(n: number, color: string): string {
  const full = `<svg id="glyphicon glyphicon-star" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="currentColor" class="star"><path fill-rule="evenodd" d="${STAR_PATH}" clip-rule="evenodd"/></svg>`;
  const empty = `<svg id="glyphicon glyphicon-star-empty" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke-width="1.5" stroke="currentColor" class="star"><path stroke-linecap="round" stroke-linejoin="round" d="${STAR_PATH}"/></svg>`;
  const filled = Math.max(0, Math.min(5, n));
  return `<div class="flex gap-x-1 text-${esc(color)}-500">\n${full.repeat(filled)}${empty.repeat(5 - filled)}\n</div>`;
}

const STYLE = `
body { margin: 0; font-family: ui-sans-serif, system-ui, sans-serif; color: #1f2937; background: #f9fafb; }
nav { display: flex; justify-content: space-between; align-items: center; padding: 0.75rem 1.5rem; background: #1e3a8a; color: #fff; }
nav a, nav button { color: #fff; background: none; border: 1px solid #fff; border-radius: 0.375rem; padding: 0.25rem 0.75rem; cursor: pointer; text-decoration: none; font-size: 0.9rem; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 2rem; margin: 0.5rem 0 1rem; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; margin-top: 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
blockquote { margin: 0 0 1rem; padding: 0.75rem 1rem; border-left: 4px solid #d1d5db; background: #fff; }
.flex { display: flex; } .gap-x-1 { column-gap: 0.25rem; }
.text-red-500 { color: #ef4444; }
.star { width: 1.25rem; height: 1.25rem; }
.error { color: #b91c1c; }
dialog form { display: grid; gap: 0.5rem; min-width: 18rem; }
`;

const LOGIN_DIALOG = `<dialog id="login-modal">
<form method="post" action='login' name="login_form">
<h3>Please sign in</h3>
<label for="username">User Name</label>
<input type="text" id="username" name="username" autocomplete="username">
<label for="passwd">Password</label>
<input type="password" id="passwd" name="passwd" autocomplete="current-password">
<button type="submit">Sign in</button>
<button type="button" onclick="document.getElementById('login-modal').close()">Cancel</button>
</form>
</dialog>
`;

export function renderProductPage(m: PageModel): string {
  const nav = m.user
    ? `<div class="user">\n<span id="signed-in-user">${esc(m.user)}</span>\n<a href="logout">Sign out</a>\n</div>`
    : `<button type="button" onclick="document.getElementById('login-modal').showModal()">Sign in</button>`;

  let details: string;
  if (m.detailsOk) {
    const d = m.details;
    details =
      `<h4>Book Details</h4>\n<dl>\n` +
      `<dt>Type:</dt><dd>${esc(d.type)}</dd>\n<dt>Pages:</dt><dd>${esc(d.pages)}</dd>\n<dt>Publisher:</dt><dd>${esc(d.publisher)}</dd>\n` +
      `<dt>Language:</dt><dd>${esc(d.language)}</dd>\n<dt>ISBN-10:</dt><dd>${esc(d['ISBN-10'])}</dd>\n<dt>ISBN-13:</dt><dd>${esc(d['ISBN-13'])}</dd>\n</dl>`;
  } else {
    details = `<h4 class="error">Error fetching product details</h4>\n${m.details.error ? `<p>${esc(m.details.error)}</p>` : ''}`;
  }

  let reviews: string;
  if (m.reviewsOk) {
    const items = (m.reviews.reviews ?? []).map((r) => {
      let rating = '';
      if (r.rating?.stars !== undefined) rating = stars(r.rating.stars, r.rating.color ?? 'black');
      else if (r.rating?.error) rating = `<p class="error"><i>${esc(r.rating.error)}</i></p>`;
      return `<blockquote>\n<p>${esc(r.text)}</p>\n<small>${esc(r.reviewer)}</small>\n${rating}\n</blockquote>`;
    });
    const cluster = m.reviews.clustername && m.reviews.clustername !== 'null' ? ` on cluster ${esc(m.reviews.clustername)}` : '';
    reviews = `<h4>Book Reviews</h4>\n${items.join('\n')}\n<p class="served-by">Reviews served by: ${esc(m.reviews.podname)}${cluster}</p>`;
  } else {
    reviews = `<h4 class="error">Error fetching product reviews</h4>\n${m.reviews.error ? `<p>${esc(m.reviews.error)}</p>` : ''}`;
  }

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<style>${STYLE}</style>
</head>
<body>
<nav>
<a href="#" class="brand">BookInfo Sample</a>
${nav}
</nav>
${m.user ? '' : LOGIN_DIALOG}<main>
<h1>${esc(m.product.title)}</h1>
<p>${m.product.descriptionHtml}</p>
<div class="columns">
<section id="details">
${details}
</section>
<section id="reviews">
${reviews}
</section>
</div>
</main>
</body>
</html>
`;
}

export function renderIndexPage(): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<style>${STYLE} table { border-collapse: collapse; } td, th { border: 1px solid #d1d5db; padding: 0.25rem 0.75rem; }</style>
</head>
<body>
<main>
<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table>
<tr><th>name</th><th>endpoint</th><th>children</th></tr>
<tr><td>productpage</td><td>details</td><td>details, reviews</td></tr>
<tr><td>details</td><td>details</td><td></td></tr>
<tr><td>reviews</td><td>reviews</td><td>ratings</td></tr>
<tr><td>ratings</td><td>ratings</td><td></td></tr>
</table>
<p><h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4></p>
<p><a href="/productpage?u=normal">Normal user</a></p>
<p><a href="/productpage?u=test">Test user</a></p>
</main>
</body>
</html>
`;
}

export const FLASK_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

export const FLASK_405 = '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n';

export function flaskRedirect(location: string): string {
  const e = esc(location);
  return `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${e}">${e}</a>. If not, click the link.\n`;
}
