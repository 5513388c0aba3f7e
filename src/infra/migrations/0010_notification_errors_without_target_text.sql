-- NotificationFailed events of schema version 1 are upcast to keep only the HTTP status of a target's answer (never
-- its body or redirect location); the rows projected from them before get the same text a fresh replay gives.
update alert_notifications
   set last_error = case
         when last_error ~ '^HTTP 3[0-9]{2}(:|$)' then 'redirect refused (' || substring(last_error from '^HTTP [0-9]{3}') || ')'
         else substring(last_error from '^HTTP [0-9]{3}')
       end
 where last_error ~ '^HTTP [0-9]{3}(:|$)';
