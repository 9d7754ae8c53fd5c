import type { Catalogue } from './en.js'

// French, vouvoiement. `{app}` never follows "de" (which would need "d’" before a vowel): "à", "sur"
// and "pour" read right before a name and before the fallback.
export const fr: Catalogue = {
  'app.fallback': 'votre application',
  'page.nextStep': 'Que faire maintenant',
  'page.logoAlt': 'Logo de l’application',

  'connected.heading': 'Raven est connecté à {app}',
  'connected.body': 'Vos données Raven sont maintenant disponibles pour {app}. Vous n’avez rien d’autre à faire.',
  'connected.next': 'Fermez cette page et retournez sur {app}.',
  'pending.heading': 'Presque terminé',
  'pending.body': 'Raven a accepté. Nous enregistrons encore la connexion ; cela prend en général moins d’une minute.',
  'pending.next': 'Fermez cette page et retournez sur {app}. Raven y apparaîtra bientôt comme connecté.',

  'reason.access_denied.heading': 'Raven n’a pas été connecté',
  'reason.access_denied.body': 'Vous avez refusé l’accès sur Raven. Rien n’a été partagé.',
  'reason.access_denied.next': 'Vous avez changé d’avis ? Retournez sur {app} et connectez Raven à nouveau.',
  'reason.raven_error.heading': 'Raven n’a pas pu terminer',
  'reason.raven_error.body': 'Raven a rencontré un problème pendant votre connexion. Rien n’a été modifié.',
  'reason.raven_error.next': 'Retournez sur {app} et réessayez dans quelques minutes.',
  'reason.expired.heading': 'Le délai de cette tentative est dépassé',
  'reason.expired.body': 'La connexion a pris plus de 15 minutes, ou votre navigateur n’a pas gardé notre cookie.',
  'reason.expired.next': 'Retournez sur {app} et connectez Raven à nouveau.',
  'reason.invalid_request.heading': 'Ce lien ne fonctionne plus',
  'reason.invalid_request.body': 'Cette connexion est déjà terminée, ou le lien a été modifié ou ouvert dans un autre navigateur.',
  'reason.invalid_request.next': 'Retournez sur {app} et connectez Raven à nouveau.',
  'reason.token_exchange_failed.heading': 'Raven n’a pas confirmé la connexion',
  'reason.token_exchange_failed.body': 'Raven a refusé de terminer la connexion. Rien n’a été enregistré.',
  'reason.token_exchange_failed.next': 'Retournez sur {app} et connectez Raven à nouveau.',
  'reason.no_refresh_token.heading': 'Raven n’a pas accordé l’accès continu',
  'reason.no_refresh_token.body': 'Pour garder vos données synchronisées, un accès continu (hors ligne) est nécessaire, et Raven ne l’a pas accordé.',
  'reason.no_refresh_token.next': 'Retournez sur {app}, connectez Raven à nouveau et autorisez tous les accès demandés.',
  'reason.leaf_rejected.heading': 'La connexion n’a pas pu être enregistrée',
  'reason.leaf_rejected.body': 'Raven est connecté, mais la connexion n’a pas pu être conservée.',
  'reason.leaf_rejected.next': 'Contactez le support et indiquez le code leaf_rejected.',
  'reason.server_error.heading': 'Un problème est survenu de notre côté',
  'reason.server_error.body': 'La connexion n’a pas pu aboutir. Rien n’a été modifié.',
  'reason.server_error.next': 'Retournez sur {app} et réessayez dans quelques minutes.',

  'link.expired.heading': 'Ce lien a expiré ou a déjà été utilisé',
  'link.expired.body': 'Par sécurité, les liens de connexion ne fonctionnent qu’une fois et pendant quelques minutes.',
  'link.expired.next': 'Retournez sur {app} et connectez Raven à nouveau pour obtenir un nouveau lien.',
  'link.missing.heading': 'Ce lien est incomplet',
  'link.missing.body': 'Une partie du lien manque. Il a peut-être été coupé lors d’un copier-coller.',
  'link.missing.next': 'Retournez sur {app} et connectez Raven à nouveau pour obtenir un nouveau lien.',

  'unavailable.heading': 'Impossible de connecter Raven pour le moment',
  'unavailable.body': 'Rien n’a été modifié.',
  'unavailable.next': 'Retournez sur {app} et réessayez dans une minute.',

  'error.notFound.heading': 'Page introuvable',
  'error.badRequest.heading': 'Cette demande n’a pas pu être traitée',
  'error.server.heading': 'Un problème est survenu de notre côté',
  'error.body': 'Rien n’a été modifié.',
  'error.next': 'Retournez sur {app} et réessayez.',
}
